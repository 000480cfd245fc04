package dev.cachepipe.support.redis;

import java.util.Objects;

/**
 * One call of a script on one key, its arguments already encoded as Redis expects them.
 *
 * @param script the script
 * @param key {@code KEYS[1]}
 * @param args {@code ARGV}, in order
 */
public record ScriptCall(LuaScript script, byte[] key, byte[]... args) {
    public ScriptCall {
        Objects.requireNonNull(script, "script");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(args, "args");
    }
}
