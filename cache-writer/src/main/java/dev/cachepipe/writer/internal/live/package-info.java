/**
 * The live driver behind {@link dev.cachepipe.writer.CacheWriter}; not API: {@code LiveWriter} polls its consumer
 * group's partitions, hands each batch to the apply engine and commits through the {@code OffsetLedger} (pending
 * commits, ranges inherited from a previous owner, the rebalance listener). {@code GroupWait} is how it waits
 * between retries, {@code IdleProbes} notice an outage without traffic, {@code Lifecycle} is its one state machine.
 * {@code Watermarks} raise a watermark per partition after every batch's writes and find a Redis that went back in
 * time, whose lost range {@code WatermarkReplays} (replay package) then replays.
 */
package dev.cachepipe.writer.internal.live;
