package dev.cachepipe.support.redis;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * One Lua script file on the class path, read once: the exact bytes sent to Redis and their SHA-1, as {@code
 * EVALSHA} expects it. Scripts are never built at run time; call them through a {@link ScriptRunner}.
 */
public final class LuaScript {
    private final String resource;
    private final byte[] text;
    private final String sha1;

    private LuaScript(String resource, byte[] text) {
        this.resource = resource;
        this.text = text;
        this.sha1 = sha1Hex(text);
    }

    /**
     * Reads {@code resource} (e.g. {@code lua/upsert_entry.lua}) with the class loader of {@code owner}, the class
     * whose module ships the file.
     *
     * @throws IllegalStateException if the resource is missing
     */
    public static LuaScript of(Class<?> owner, String resource) {
        Objects.requireNonNull(owner, "owner");
        Objects.requireNonNull(resource, "resource");
        try (InputStream in = owner.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("class path resource " + resource + " is missing");
            }
            return new LuaScript(resource, in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + resource, e);
        }
    }

    /** Class path resource name, e.g. {@code lua/upsert_entry.lua}. */
    public String resource() {
        return resource;
    }

    /** The file name without folder and {@code .lua}, e.g. {@code upsert_entry}. */
    public String name() {
        String file = resource.substring(resource.lastIndexOf('/') + 1);
        return file.endsWith(".lua") ? file.substring(0, file.length() - 4) : file;
    }

    /** The exact bytes sent with {@code SCRIPT LOAD} (a copy). */
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

    @Override
    public String toString() {
        return resource;
    }

    private static String sha1Hex(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is not available", e);
        }
    }
}
