package dev.cachepipe.support.redis;

import java.util.Locale;

/** How cachepipe talks to Redis: one server (or a primary behind a DNS name), or a Redis Cluster. */
public enum RedisMode {
    /** Ask the server: {@code INFO cluster} says whether cluster mode is enabled. */
    AUTO,
    /** One server: every key on it. */
    STANDALONE,
    /** Redis Cluster: keys by slot, topology from {@code CLUSTER SHARDS}/{@code CLUSTER NODES}, redirects followed. */
    CLUSTER;

    /** The mode named {@code value} ({@code auto}, {@code standalone}, {@code cluster}; any case). */
    public static RedisMode parse(String value) {
        try {
            return valueOf(value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException("mode must be auto, standalone or cluster but was '" + value + "'");
        }
    }

    /** The lower-case name used in configuration. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
