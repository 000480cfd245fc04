package dev.cachepipe.client.internal;

import dev.cachepipe.support.redis.EntryScripts;
import dev.cachepipe.support.redis.LuaScript;

/**
 * The client's Lua scripts, called through a {@link dev.cachepipe.support.redis.ScriptRunner}. Both take one key
 * (Redis Cluster safe). Not API.
 */
public enum ClientScript {
    /** {@code fill_entry.lua} (an entry script, beside the pipeline's): KEYS entry key; ARGV version, expect, payload, content type, occurredAt, ttl ms, reply found. */
    FILL_ENTRY(EntryScripts.FILL_ENTRY),
    /** {@code release_lease.lua}: KEYS lease key; ARGV token, marker ('' = delete), marker lifetime ms. */
    RELEASE_LEASE(LuaScript.of(ClientScript.class, "lua/release_lease.lua"));

    /** Reply of {@link #FILL_ENTRY}: the value was stored. */
    public static final long STORED = 1;
    /** Reply of {@link #FILL_ENTRY}: Redis holds something newer or the key changed since the load began. */
    public static final long DROPPED = 0;
    /** ARGV[7] of {@link #FILL_ENTRY}: when the fill is dropped, reply with the entry Redis holds instead of 0. */
    public static final String REPLY_FOUND = "1";

    private final LuaScript script;

    ClientScript(LuaScript script) {
        this.script = script;
    }

    /** The script file. */
    public LuaScript script() {
        return script;
    }
}
