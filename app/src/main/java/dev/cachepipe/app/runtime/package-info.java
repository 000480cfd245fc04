/**
 * What {@code cachepipe run} starts and keeps running: the {@link dev.cachepipe.app.runtime.Infrastructure} (the
 * configured Kafka and Redis, or embedded ones when the configuration says {@code embedded}; the only class here that
 * touches the {@code embedded} module) and the {@link dev.cachepipe.app.runtime.Pipeline} (the topics, the Kafka
 * Streams topology and the cache writer, with the rule that stops it when stream threads keep dying).
 */
package dev.cachepipe.app.runtime;
