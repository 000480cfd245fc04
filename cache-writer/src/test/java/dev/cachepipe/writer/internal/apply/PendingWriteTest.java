package dev.cachepipe.writer.internal.apply;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cachepipe.avro.MutationOp;
import dev.cachepipe.writer.RedisScripts;
import dev.cachepipe.writer.WriteOutcome;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class PendingWriteTest {
    private final PendingWrite write =
            new PendingWrite(CoalescerTest.mutation("a", 5, MutationOp.UPSERT, 1000), new TopicPartition("m", 0), 7);

    @Test
    void shouldCountAsDuplicateWhenFirstAttemptFindsSameVersion() {
        write.replied(RedisScripts.SAME_VERSION, 1);
        assertThat(write.changed()).isFalse();
        assertThat(write.outcome()).isEqualTo(WriteOutcome.DUPLICATE);
    }

    @Test
    void shouldCountAsChangedWhenSameVersionFollowsAnAttemptWithUnknownOutcome() {
        write.outcomeUnknown(); // e.g. timed out: the first attempt may have applied it
        assertThat(write.done()).isFalse();
        write.replied(RedisScripts.SAME_VERSION, 1);
        assertThat(write.changed()).isTrue();
        assertThat(write.outcome()).isEqualTo(WriteOutcome.APPLIED);
    }

    @Test
    void shouldNotCountAsChangedWhenStaleEvenAfterUnknownOutcome() {
        write.outcomeUnknown();
        write.replied(RedisScripts.STALE, 1);
        assertThat(write.changed()).isFalse();
        assertThat(write.outcome()).isEqualTo(WriteOutcome.STALE);
    }

    @Test
    void shouldCountAsChangedWhenApplied() {
        write.replied(RedisScripts.APPLIED, 42);
        assertThat(write.changed()).isTrue();
        assertThat(write.ackAtMillis()).isEqualTo(42);
    }
}
