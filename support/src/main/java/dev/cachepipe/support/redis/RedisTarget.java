package dev.cachepipe.support.redis;

import io.lettuce.core.RedisURI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Where Redis is: one URI in standalone mode, or the seed nodes of a Redis Cluster (any reachable one is enough to
 * learn the whole topology), with the {@link RedisMode}. {@link #toString()} and {@link #description()} never show
 * credentials.
 *
 * @param seeds at least one URI, each with the credentials and timeout to use
 * @param mode standalone, cluster, or auto (ask the first seed that answers)
 * @param tls what {@code rediss://} URIs trust and present
 */
public record RedisTarget(List<RedisURI> seeds, RedisMode mode, RedisTls tls) {
    public RedisTarget {
        seeds = List.copyOf(seeds);
        if (seeds.isEmpty()) {
            throw new IllegalArgumentException("at least one Redis URI is needed");
        }
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(tls, "tls");
    }

    /** With the JDK's TLS defaults. */
    public RedisTarget(List<RedisURI> seeds, RedisMode mode) {
        this(seeds, mode, RedisTls.defaults());
    }

    /** The same seeds and mode with {@code tls}. */
    public RedisTarget withTls(RedisTls tls) {
        return new RedisTarget(seeds, mode, tls);
    }

    /** One URI, mode {@link RedisMode#AUTO}. */
    public static RedisTarget of(RedisURI uri) {
        return new RedisTarget(List.of(uri), RedisMode.AUTO);
    }

    /**
     * Parses {@code uris}, comma-separated ({@code redis://h1:6379,redis://h2:6379}; a bare {@code host:port} after
     * the first takes the first's scheme), applying {@code username}/{@code password} (when not null or empty) and
     * {@code timeout} to each.
     *
     * @throws IllegalArgumentException naming the element that is not a Redis URI (credentials redacted)
     */
    public static RedisTarget parse(String uris, RedisMode mode, String username, char[] password, Duration timeout) {
        List<RedisURI> seeds = new ArrayList<>();
        String scheme = null;
        for (String part : uris.split(",")) {
            String s = part.trim();
            if (s.isEmpty()) {
                continue;
            }
            if (scheme != null && !s.contains("://")) {
                s = scheme + "://" + s;
            }
            RedisURI uri;
            try {
                if ((s.startsWith("redis://") || s.startsWith("rediss://")) && new java.net.URI(s).getHost() == null) {
                    throw new IllegalArgumentException("no host:port");
                }
                uri = RedisURI.create(s);
            } catch (RuntimeException | java.net.URISyntaxException e) {
                throw new IllegalArgumentException("not a Redis URI: '" + redact(s) + "'");
            }
            scheme = s.substring(0, s.indexOf("://"));
            if (password != null && password.length > 0) {
                if (username == null || username.isEmpty()) {
                    uri.setAuthentication(password.clone());
                } else {
                    uri.setAuthentication(username, password.clone());
                }
            }
            if (timeout != null) {
                uri.setTimeout(timeout);
            }
            seeds.add(uri);
        }
        return new RedisTarget(seeds, mode);
    }

    /** The first seed. */
    public RedisURI first() {
        return seeds.get(0);
    }

    /** Every URI with {@code timeout} set. */
    public RedisTarget withTimeout(Duration timeout) {
        return new RedisTarget(
                seeds.stream()
                        .map(u -> RedisURI.builder(u).withTimeout(timeout).build())
                        .toList(),
                mode,
                tls);
    }

    /** {@code redis://host:port[,host:port...]}, safe to log. */
    public String description() {
        String scheme = first().isSsl() ? "rediss://" : "redis://";
        return scheme + seeds.stream().map(u -> u.getHost() + ":" + u.getPort()).collect(Collectors.joining(","));
    }

    @Override
    public String toString() {
        return "RedisTarget[" + description() + ", mode=" + mode.configName() + "]";
    }

    private static String redact(String uri) {
        return uri.replaceAll("//[^@/]*@", "//***@");
    }
}
