package dev.cachepipe.writer.internal.apply;

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
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class CoalescerTest {
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

    private static CoalescedBatch coalesce(List<ConsumerRecord<String, byte[]>> records, Coalescer.Rules rules) {
        return new Coalescer(SERDE, rules).coalesce(records);
    }

    private static CoalescedBatch coalesce(List<ConsumerRecord<String, byte[]>> records) {
        return coalesce(records, new Coalescer.Rules() {});
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
        CoalescedBatch batch = coalesce(records);

        assertThat(batch.writes()).extracting(PendingWrite::key).containsExactly("cache:user:a", "cache:user:b");
        assertThat(batch.writes().get(0).version()).isEqualTo(7);
        assertThat(batch.writes().get(0).mutation().getOp()).isEqualTo(MutationOp.TOMBSTONE);
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

        CoalescedBatch batch = coalesce(records);

        assertThat(batch.writes()).extracting(PendingWrite::key).containsExactly("cache:user:a", "cache:user:e");
        assertThat(batch.skipped()).hasSize(5);
        assertThat(batch.coalesced()).isZero();
        assertThat(batch.nextOffsets())
                .containsEntry(new TopicPartition("m", 0), 12L)
                .containsEntry(new TopicPartition("m", 1), 17L);
    }

    @Test
    void shouldStopPartitionAtUnknownSchemaWithoutSkippingIt() {
        byte[] newer = SERDE.encode(mutation("x", 1, MutationOp.UPSERT, 1000));
        newer[2] ^= 0x55; // a fingerprint this writer does not know, as from a newer topology
        add(0, mutation("a", 1, MutationOp.UPSERT, 1000)); // offset 10
        add(0, newer); // offset 11
        add(0, mutation("b", 1, MutationOp.UPSERT, 1000)); // offset 12: after the block, read again later
        add(1, mutation("c", 1, MutationOp.UPSERT, 1000)); // offset 13: another partition goes on
        CoalescedBatch batch = coalesce(records);

        assertThat(batch.writes()).extracting(PendingWrite::key).containsExactly("cache:user:a", "cache:user:c");
        assertThat(batch.blocked())
                .containsExactly(java.util.Map.entry(new org.apache.kafka.common.TopicPartition("m", 0), 11L));
        assertThat(batch.nextOffsets().get(new org.apache.kafka.common.TopicPartition("m", 0)))
                .isEqualTo(11); // commit up to, not past, the unknown record
        assertThat(batch.skipped()).isEmpty();
    }

    @Test
    void shouldKeepTheFirstRecordWhenVersionsAreEqual() {
        CacheMutation first = mutation("a", 4, MutationOp.UPSERT, 1000);
        CacheMutation second = mutation("a", 4, MutationOp.UPSERT, 9000); // same version, other content
        add(0, first); // offset 10
        add(0, second); // offset 11
        CoalescedBatch batch = coalesce(records);

        assertThat(batch.writes()).hasSize(1);
        PendingWrite kept = batch.writes().get(0);
        assertThat(kept.offset()).as("the first record in offset order wins").isEqualTo(10);
        assertThat(kept.mutation().getTtlMillis()).isEqualTo(1000);
        assertThat(batch.coalesced()).isEqualTo(1);
    }

    @Test
    void shouldApplyTheDriversRulesWhenGiven() {
        add(0, mutation("a", 1, MutationOp.UPSERT, 1000)); // offset 10: inherited from a previous owner
        add(0, mutation("b", 1, MutationOp.UPSERT, 1000)); // offset 11: unwanted
        add(0, mutation("c", 1, MutationOp.UPSERT, 1000)); // offset 12: out of scope
        CoalescedBatch batch = coalesce(records, new Coalescer.Rules() {
            @Override
            public boolean inScope(ConsumerRecord<String, byte[]> record) {
                return record.offset() < 12;
            }

            @Override
            public boolean wanted(CacheMutation m) {
                return !m.getEntityId().equals("b");
            }

            @Override
            public CacheMutation adjust(CacheMutation m) {
                return CacheMutation.newBuilder(m).setTtlMillis(5).build();
            }

            @Override
            public boolean maybeApplied(TopicPartition partition, long offset) {
                return offset < 11;
            }
        });

        assertThat(batch.writes()).extracting(PendingWrite::key).containsExactly("cache:user:a");
        assertThat(batch.writes().get(0).mutation().getTtlMillis()).isEqualTo(5);
        assertThat(batch.writes().get(0).uncertain()).isTrue();
        assertThat(batch.records()).isEqualTo(2);
        assertThat(batch.filtered()).isEqualTo(1);
        assertThat(batch.coalesced()).isZero();
        assertThat(batch.nextOffsets()).containsEntry(new TopicPartition("m", 0), 12L);
    }
}
