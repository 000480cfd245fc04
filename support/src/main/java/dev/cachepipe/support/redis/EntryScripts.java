package dev.cachepipe.support.redis;

import java.util.List;

/**
 * The version-gated scripts that write a cache entry of the Redis layout ({@code dev.cachepipe.schemas.RedisLayout}):
 * the pipeline's upsert, tombstone and fence, the client's fill, and the purge's fence. They live side by side because they share one
 * rule, "a version at or below the stored one changes nothing", and {@code EVALSHA} scripts cannot share functions:
 * the {@code canonical} and {@code compare} functions are written out in each file, and a test checks that they are
 * the same text everywhere. Each takes one key, so each is Redis Cluster safe.
 */
public final class EntryScripts {
    /** {@code upsert_entry.lua}: KEYS[1]; ARGV version, payload, content type ('' = none), occurredAt, ttl. */
    public static final LuaScript UPSERT_ENTRY = LuaScript.of(EntryScripts.class, "lua/upsert_entry.lua");
    /** {@code write_tombstone.lua}: KEYS[1]; ARGV version, occurredAt, ttl. */
    public static final LuaScript WRITE_TOMBSTONE = LuaScript.of(EntryScripts.class, "lua/write_tombstone.lua");
    /** {@code write_fence.lua}: KEYS[1]; ARGV version, occurredAt, ttl. */
    public static final LuaScript WRITE_FENCE = LuaScript.of(EntryScripts.class, "lua/write_fence.lua");
    /** {@code fill_entry.lua}: KEYS[1]; ARGV version, expect, payload, content type, occurredAt, ttl. */
    public static final LuaScript FILL_ENTRY = LuaScript.of(EntryScripts.class, "lua/fill_entry.lua");
    /** {@code purge_entries.lua} ({@code cachepipe purge}): KEYS[1..n]; ARGV the fences' TTL. */
    public static final LuaScript PURGE_ENTRIES = LuaScript.of(EntryScripts.class, "lua/purge_entries.lua");

    private EntryScripts() {}

    /** All five, in the order above. */
    public static List<LuaScript> all() {
        return List.of(UPSERT_ENTRY, WRITE_TOMBSTONE, WRITE_FENCE, FILL_ENTRY, PURGE_ENTRIES);
    }
}
