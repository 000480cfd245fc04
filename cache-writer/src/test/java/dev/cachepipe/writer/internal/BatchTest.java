package dev.cachepipe.writer.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cachepipe.avro.CacheMutation;
import dev.cachepipe.avro.MutationOp;
import dev.cachepipe.schemas.AvroSerde;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class BatchTest {
    private static final AvroSerde<CacheMutation> SERDE = AvroSerde.of(CacheMutation.class);
    private final List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();

    static CacheMutation mutation(String id, long version, MutationOp op, long ttl) {
        return CacheMutation.newBuilder()
                .setKey("cache:user:" + id)
                .setEntityType("user")
                .setEntityId(id)
                .setVersion(version)
                .setOp(op)
                .setOccurredAt(Instant.ofEpochMilli(1_000))
                .setTtlMillis(ttl)
                .setContentType(op == MutationOp.UPSERT ? "application/json" : null)
                .setPayload(
                        op == MutationOp.UPSERT
                                ? ByteBuffer.wrap(("{\"v\":" + version + "}").getBytes(StandardCharsets.UTF_8))
                                : null)
                .build();
    }

    private void add(int partition, byte[] value) {
        records.add(new ConsumerRecord<>("m", partition, records.size() + 10, "k", value));
    }

    private void add(int partition, CacheMutation m) {
        add(partition, SERDE.encode(m));
    }

    @Test
    void shouldKeepHighestVersionPerKeyWhenBatchHasSeveral() {
        add(0, mutation("a", 3, MutationOp.UPSERT, 1000));
        add(0, mutation("b", 1, MutationOp.UPSERT, 1000));
        add(0, mutation("a", 7, MutationOp.TOMBSTONE, 1000));
        add(0, mutation("a", 5, MutationOp.UPSERT, 1000)); // out of order: older than 7
        Batch batch = Batch.of(records, SERDE);

        assertThat(batch.writes()).extracting(PendingWrite::key).containsExactly("cache:user:a", "cache:user:b");
        assertThat(batch.writes().get(0).version()).isEqualTo(7);
        assertThat(batch.writes().get(0).mutation.getOp()).isEqualTo(MutationOp.TOMBSTONE);
        assertThat(batch.coalesced()).isEqualTo(2);
        assertThat(batch.records()).isEqualTo(4);
    }

    @Test
    void shouldSkipButCommitPastRecordWhenItDoesNotDecodeOrIsInvalid() {
        add(0, mutation("a", 1, MutationOp.UPSERT, 1000));
        add(0, "not avro".getBytes(StandardCharsets.UTF_8));
        add(1, (byte[]) null);
        add(1, mutation("b", 1, MutationOp.UPSERT, 0)); // TTL must be positive
        add(1, mutation("c", -1, MutationOp.FENCE, 1000)); // version must be >= 0
        CacheMutation noPayload = mutation("d", 1, MutationOp.UPSERT, 1000);
        noPayload.setPayload(null);
        add(1, noPayload);
        add(1, mutation("e", 2, MutationOp.FENCE, 1000));

        Batch batch = Batch.of(records, SERDE);

        assertThat(batch.writes()).extracting(PendingWrite::key).containsExactly("cache:user:a", "cache:user:e");
        assertThat(batch.skipped()).isEqualTo(5);
        assertThat(batch.coalesced()).isZero();
        assertThat(batch.offsets())
                .containsEntry(new TopicPartition("m", 0), new OffsetAndMetadata(12))
                .containsEntry(new TopicPartition("m", 1), new OffsetAndMetadata(17));
    }

    @Test
    void shouldStopPartitionAtUnknownSchemaWithoutSkippingIt() {
        byte[] newer = SERDE.encode(mutation("x", 1, MutationOp.UPSERT, 1000));
        newer[2] ^= 0x55; // a fingerprint this writer does not know, as from a newer topology
        add(0, mutation("a", 1, MutationOp.UPSERT, 1000)); // offset 10
        add(0, newer); // offset 11
        add(0, mutation("b", 1, MutationOp.UPSERT, 1000)); // offset 12: after the block, read again later
        add(1, mutation("c", 1, MutationOp.UPSERT, 1000)); // offset 13: another partition goes on
        Batch batch = Batch.of(records, SERDE);

        assertThat(batch.writes()).extracting(PendingWrite::key).containsExactly("cache:user:a", "cache:user:c");
        assertThat(batch.blocked())
                .containsExactly(java.util.Map.entry(new org.apache.kafka.common.TopicPartition("m", 0), 11L));
        assertThat(batch.offsets()
                        .get(new org.apache.kafka.common.TopicPartition("m", 0))
                        .offset())
                .isEqualTo(11); // commit up to, not past, the unknown record
        assertThat(batch.skipped()).isZero();
    }
}
