/**
 * The cachepipe client for applications: typed entity caches with a Caffeine L1 over the Redis L2 that the pipeline
 * writes, kept fresh by the invalidations topic. Depends only on {@code schemas}, kafka-clients, Lettuce, Caffeine and
 * Micrometer — never on Kafka Streams, the topology or the cache writer.
 */
package dev.cachepipe.client;
