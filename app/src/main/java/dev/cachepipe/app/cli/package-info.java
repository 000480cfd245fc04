/**
 * The commands of the {@code cachepipe} CLI but {@code demo}: {@code run} ({@link dev.cachepipe.app.cli.RunCommand},
 * where a deployment starts: it loads the configuration, starts the {@link dev.cachepipe.app.runtime runtime} and opens
 * the {@link dev.cachepipe.app.ops operator endpoints}), the tools that work on a running deployment ({@code inspect},
 * {@code rebuild}, {@code publish}, {@code stats}), and their helpers: the shared {@code --config} option, the JSON
 * lines parser of {@code publish}, the payload renderer of {@code inspect} and plain progress lines for logs.
 */
package dev.cachepipe.app.cli;
