package dev.cachepipe.app.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cachepipe.app.config.CachepipeConfig;
import dev.cachepipe.app.demo.internal.EventPlanner;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DemoReadersTest {
    @Test
    void shouldReadTheIdsTheGeneratorPublishesWhenGivenTheRunsIdPrefix() {
        EventPlanner planner = new EventPlanner(
                List.copyOf(CachepipeConfig.defaults().entities().values()), 100_001, "k3-", 0, 0, new Random(1));
        for (int index : new int[] {0, 7, 42, 99_999, 100_000}) {
            assertThat(DemoReaders.entityId("k3-", index)).isEqualTo(planner.entityId(index));
        }
    }
}
