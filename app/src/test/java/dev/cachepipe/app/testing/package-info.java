/**
 * Fixtures the app's tests share across packages: a test's own pipeline configuration and in-JVM pipeline ({@link
 * dev.cachepipe.app.testing.TestPipeline}), the CLI in a child JVM ({@link dev.cachepipe.app.testing.ChildJvm}) and
 * a reader of single Redis entries ({@link dev.cachepipe.app.testing.RedisProbe}).
 */
package dev.cachepipe.app.testing;
