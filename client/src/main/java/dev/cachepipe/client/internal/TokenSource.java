package dev.cachepipe.client.internal;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicLong;

/** Lease tokens unique across instances: a random client id and a counter. Never start with {@code !}. Not API. */
public final class TokenSource {
    private final String clientId;
    private final AtomicLong counter = new AtomicLong();

    public TokenSource() {
        byte[] random = new byte[8];
        new SecureRandom().nextBytes(random);
        this.clientId = HexFormat.of().formatHex(random);
    }

    public byte[] next() {
        return (clientId + '-' + counter.incrementAndGet()).getBytes(StandardCharsets.US_ASCII);
    }
}
