/**
 * The cache writer: applies {@code CacheMutation} records to Redis with version-gated Lua scripts and announces what
 * changed. Public face: {@link dev.cachepipe.writer.CacheWriter} (the live writer of a consumer group),
 * {@link dev.cachepipe.writer.CacheRebuild} (a replay of the mutations topic into Redis),
 * {@link dev.cachepipe.writer.WriterConfig}, {@link dev.cachepipe.writer.RedisScripts} (the scripts and their
 * arguments), and the meter contract {@link dev.cachepipe.writer.WriterMeters} / {@link
 * dev.cachepipe.writer.WriteOutcome}.
 *
 * <p>Inside, one apply engine and two drivers:
 *
 * <pre>
 *  internal.live     LiveWriter: poll ─► apply ─► commit      (OffsetLedger, GroupWait, IdleProbes, Lifecycle)
 *                        │                                      ▲ SelfHealing starts a replay when the marker is gone
 *                        │                                      ▲ Watermarks: WatermarkReplays replay what a Redis
 *                        │                                        that went back in time lost, from its watermarks
 *  internal.replay   ReplayDriver: ReplaySource ─► apply ─► progress   (RebuildLease, Marker, CancellableSleep)
 *                        │
 *  internal.apply    Coalescer ─► ApplyEngine ─► RedisBatchWriter (pipelined scripts) ─► Announcer (invalidations)
 *                    one decode-and-coalesce rule, one RetryLoop with the driver's wait, one KafkaClients builder
 * </pre>
 *
 * <p>A part that both drivers need (the batch trailer that carries the watermarks, replays that start at an offset,
 * Redis Cluster) belongs in {@code internal.apply}; a driver only says where records come from, how it waits and when it stops.
 */
package dev.cachepipe.writer;
