/**
 * What operators see of a running cachepipe: the meter registry published as JMX MBeans (and Prometheus), the remote
 * JMX connector, the HTTP endpoint with {@code /health} and {@code /metrics}, the health monitor with its {@code
 * cachepipe.health} gauge, the {@code --jmx-port}/{@code --http-port} options that open them, and the one-screen
 * summary that {@code cachepipe stats} reads from the MBeans of another process.
 */
package dev.cachepipe.app.ops;
