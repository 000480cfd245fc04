/**
 * The live driver behind {@link dev.cachepipe.writer.CacheWriter}; not API: {@code LiveWriter} polls its consumer
 * group's partitions, hands each batch to the apply engine and commits through the {@code OffsetLedger} (pending
 * commits, ranges inherited from a previous owner, the rebalance listener). {@code GroupWait} is how it waits
 * between retries, {@code IdleProbes} notice an outage without traffic, {@code Lifecycle} is its one state machine.
 */
package dev.cachepipe.writer.internal.live;
