package dev.cachepipe.client.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The client's Lua scripts ({@code lua/*.lua} on the class path), called by SHA-1 with {@code EVALSHA}; the SHA-1 is
 * computed over the exact bytes sent. Both take one key (Redis Cluster safe). Not API.
 */
public enum LuaScript {
    /** {@code fill_entry.lua}: KEYS entry key; ARGV version, expect, payload, content type, occurredAt, ttl ms. */
    FILL_ENTRY("lua/fill_entry.lua"),
    /** {@code release_lease.lua}: KEYS lease key; ARGV token, marker ('' = delete), marker lifetime ms. */
    RELEASE_LEASE("lua/release_lease.lua");

    /** Reply of {@link #FILL_ENTRY}: the value was stored. */
    public static final long STORED = 1;
    /** Reply of {@link #FILL_ENTRY}: Redis holds something newer or the key changed since the load began. */
    public static final long DROPPED = 0;

    private final String resource;
    private final byte[] text;
    private final String sha1;

    LuaScript(String resource) {
        this.resource = resource;
        this.text = read(resource);
        this.sha1 = sha1Hex(text);
    }

    public String resource() {
        return resource;
    }

    /** The exact bytes sent with {@code SCRIPT LOAD} / {@code EVAL} (a copy). */
    public byte[] text() {
        return text.clone();
    }

    byte[] textNoCopy() {
        return text;
    }

    /** Lower-case hex SHA-1 of {@link #text()}. */
    public String sha1() {
        return sha1;
    }

    private static byte[] read(String resource) {
        try (InputStream in = LuaScript.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("class path resource " + resource + " is missing");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + resource, e);
        }
    }

    private static String sha1Hex(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is not available", e);
        }
    }
}
