/**
 * The apply engine both writer drivers share; not API.
 *
 * <pre>
 *   records ─► Coalescer (decode, validate, highest version per key; equal versions: the first record wins)
 *           ─► ApplyEngine
 *                ├─ RedisBatchWriter: every write as one pipelined batch of EVALSHA calls (ScriptRunner reloads a
 *                │  script Redis lost), retried by RetryLoop "Redis" until each has a definite reply; a
 *                │  BatchTrailer (the live writer's watermarks) follows the writes in the same pipeline
 *                ├─ Hooks.written: the driver counts outcomes ({@link dev.cachepipe.writer.WriteOutcome})
 *                └─ Announcer: an invalidation per write that changed Redis (and that the driver announces),
 *                   retried by RetryLoop "Kafka" until Kafka acknowledged all
 * </pre>
 *
 * <p>Retries wait the driver's way ({@link dev.cachepipe.writer.internal.apply.RetryLoop.Waiter}): the live writer
 * polls with its partitions paused to keep its group membership, a rebuild sleeps and stops when cancelled.
 */
package dev.cachepipe.writer.internal.apply;
