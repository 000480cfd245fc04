package dev.cachepipe.app.demo.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cachepipe.avro.Operation;
import dev.cachepipe.topology.CacheMode;
import dev.cachepipe.topology.EntityPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class EventPlannerTest {
    private static EntityPolicy policy(String type) {
        return new EntityPolicy(
                type,
                List.of(type + ".events"),
                CacheMode.WRITE_THROUGH,
                Duration.ofMinutes(5),
                0.1,
                Duration.ofMinutes(1),
                1024,
                512);
    }

    private final List<EntityPolicy> types = List.of(policy("user"), policy("product"));

    @Test
    void shouldGiveEveryEntityEachVersionOnceAndShuffleThemWhenPlanningAWindow() {
        EventPlanner planner = new EventPlanner(types, 50, "", 0.1, 0.0, new Random(1));

        List<EventPlanner.Slot> window = planner.nextWindow(2000);

        assertThat(window).hasSize(2000);
        Map<String, List<Long>> versions = new HashMap<>();
        for (EventPlanner.Slot s : window) {
            versions.computeIfAbsent(s.type().entityType() + ":" + s.entityId(), k -> new ArrayList<>())
                    .add(s.version());
        }
        int outOfOrder = 0;
        for (List<Long> vs : versions.values()) {
            List<Long> sorted = vs.stream().sorted().toList();
            // versions 1..n, each exactly once
            assertThat(sorted)
                    .isEqualTo(java.util.stream.LongStream.rangeClosed(1, vs.size())
                            .boxed()
                            .toList());
            if (!vs.equals(sorted)) {
                outOfOrder++;
            }
        }
        assertThat(versions).hasSize(100);
        assertThat(outOfOrder).isGreaterThan(90);
    }

    @Test
    void shouldContinueVersionsAboveThePreviousWindowWhenPlanningTheNext() {
        EventPlanner planner = new EventPlanner(types, 5, "", 0.0, 0.0, new Random(2));
        Map<String, Long> maxFirst = new HashMap<>();
        for (EventPlanner.Slot s : planner.nextWindow(200)) {
            maxFirst.merge(s.type().entityType() + ":" + s.entityId(), s.version(), Math::max);
        }

        for (EventPlanner.Slot s : planner.nextWindow(200)) {
            assertThat(s.version())
                    .isGreaterThan(maxFirst.getOrDefault(s.type().entityType() + ":" + s.entityId(), 0L));
        }
    }

    @Test
    void shouldRepeatTheSameSlotWhenPlanningDuplicates() {
        EventPlanner planner = new EventPlanner(types, 20, "", 0.0, 0.1, new Random(3));

        List<EventPlanner.Slot> window = planner.nextWindow(1000);

        assertThat(window).hasSize(1000);
        Map<EventPlanner.Slot, Integer> copies = new IdentityHashMap<>();
        window.forEach(s -> copies.merge(s, 1, Integer::sum));
        int duplicates = copies.values().stream().mapToInt(c -> c - 1).sum();
        assertThat(duplicates).isEqualTo(100);
    }

    @Test
    void shouldMakeAboutTheRequestedFractionDeletesWhenPlanning() {
        EventPlanner planner = new EventPlanner(types, 100, "", 0.2, 0.0, new Random(4));

        long deletes = planner.nextWindow(10_000).stream()
                .filter(s -> s.op() == Operation.DELETE)
                .count();

        assertThat(deletes).isBetween(1800L, 2200L);
    }

    @Test
    void shouldPlanTheSameEventsWhenGivenTheSameSeed() {
        List<EventPlanner.Slot> a = new EventPlanner(types, 10, "p-", 0.1, 0.1, new Random(9)).nextWindow(300);
        List<EventPlanner.Slot> b = new EventPlanner(types, 10, "p-", 0.1, 0.1, new Random(9)).nextWindow(300);

        for (int i = 0; i < a.size(); i++) {
            assertThat(b.get(i).entityId()).isEqualTo(a.get(i).entityId());
            assertThat(b.get(i).version()).isEqualTo(a.get(i).version());
            assertThat(b.get(i).op()).isEqualTo(a.get(i).op());
        }
        assertThat(a.get(0).entityId()).startsWith("p-");
    }
}
