/**
 * The {@code cachepipe} command line: only {@link dev.cachepipe.app.Main}, which names the commands. Each room of the
 * application has a package of its own: {@link dev.cachepipe.app.cli} holds the commands ({@code run} starts in
 * {@code RunCommand}) and their helpers, {@link dev.cachepipe.app.runtime} the pipeline that {@code run} starts,
 * {@link dev.cachepipe.app.ops} what operators read (JMX, {@code /health}, {@code /metrics}, the {@code stats} screen),
 * {@link dev.cachepipe.app.demo} the {@code demo} command and its generator, readers and checks, and {@link
 * dev.cachepipe.app.config} the configuration file.
 */
package dev.cachepipe.app;
