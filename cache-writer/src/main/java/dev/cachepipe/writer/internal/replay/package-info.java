/**
 * The replay driver behind {@link dev.cachepipe.writer.CacheRebuild}; not API: {@code ReplayDriver} replays a
 * bounded {@code ReplaySource} through the apply engine, under the marker/lease protocol ({@code RebuildLease} over
 * the {@code Marker} scripts), counting its progress ({@code ReplayCounts}, {@code RebuildMetrics}). {@code
 * SelfHealing} is how the live writer starts one when Redis lost its data; {@code WatermarkReplays} replays only the
 * ranges of partitions that a Redis which went back in time lost ({@code ReplaySource.Range}, counted in
 * {@code WatermarkMetrics}).
 */
package dev.cachepipe.writer.internal.replay;
