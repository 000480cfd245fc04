package dev.cachepipe.writer.internal.live;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cachepipe.writer.internal.apply.Health;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Which batches the ledger lets the writer commit, driven through Kafka's {@link MockConsumer} rebalances. */
class OffsetLedgerTest {
    private static final TopicPartition P0 = new TopicPartition("mutations", 0);
    private static final TopicPartition P1 = new TopicPartition("mutations", 1);

    private final MockConsumer<String, byte[]> consumer = new MockConsumer<>("earliest");
    private final OffsetLedger ledger =
            new OffsetLedger(consumer, "group", new Health("Kafka", LoggerFactory.getLogger("test")), () -> false);

    @BeforeEach
    void subscribe() {
        consumer.updateEndOffsets(Map.of(P0, 100L, P1, 100L));
        consumer.subscribe(List.of("mutations"), ledger);
        consumer.rebalance(List.of(P0, P1));
    }

    @Test
    void shouldDisownTheBatchAndCommitNothingOfItWhenOneOfItsPartitionsIsRevoked() {
        ledger.batchStarted(Set.of(P0, P1));
        assertThat(ledger.disowned()).isEmpty();

        consumer.rebalance(List.of(P1));

        assertThat(ledger.disowned()).containsExactly(P0);
        ledger.acknowledged(Map.of(P0, 5L, P1, 7L));
        assertThat(ledger.hasPending()).isFalse();
        ledger.batchEnded();
        assertThat(ledger.disowned()).isEmpty();
    }

    @Test
    void shouldKeepTheBatchWhenOnlyOtherPartitionsMove() {
        ledger.batchStarted(Set.of(P1));
        consumer.rebalance(List.of(P1));

        assertThat(ledger.disowned()).isEmpty();
        ledger.acknowledged(Map.of(P1, 7L));
        assertThat(ledger.commitPending()).isTrue();
        assertThat(consumer.committed(Set.of(P1))).containsEntry(P1, new OffsetAndMetadata(7L));
    }

    @Test
    void shouldNeverCommitBelowWhatTheGroupHadCommittedWhenThePartitionCameBack() {
        consumer.rebalance(List.of(P1));
        consumer.commitSync(Map.of(P0, new OffsetAndMetadata(10L))); // the partition's owner meanwhile
        consumer.rebalance(List.of(P0, P1));

        ledger.acknowledged(Map.of(P0, 7L));
        assertThat(ledger.commitPending()).isTrue();
        assertThat(consumer.committed(Set.of(P0))).containsEntry(P0, new OffsetAndMetadata(10L));

        ledger.acknowledged(Map.of(P0, 12L));
        assertThat(ledger.commitPending()).isTrue();
        assertThat(consumer.committed(Set.of(P0))).containsEntry(P0, new OffsetAndMetadata(12L));
    }
}
