package dev.cachepipe.app.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cachepipe.app.testing.ChildJvm;
import dev.cachepipe.app.testing.TestPipeline;
import dev.cachepipe.embedded.EmbeddedKafka;
import dev.cachepipe.embedded.RedisServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code cachepipe run} exits with status 1 when its pipeline fails for good, so that an orchestrator restarts it and
 * somebody looks: here two instances were given the same static group member id, and Kafka fences the first.
 */
class RunExitIT {
    private static RedisServer redis;

    @BeforeAll
    static void startRedis() {
        redis = RedisServer.start();
    }

    @AfterAll
    static void stopRedis() {
        redis.close();
    }

    @Test
    void shouldExitWithStatusOneWhenThePipelineFailsForGood() throws Exception {
        TestPipeline p = TestPipeline.configure("exit", redis, 1, "group.instance.id: 'same-for-both'");
        p.createTopics();
        String config = p.configFile().toString();
        Process first = ChildJvm.start(p.id + "-first", List.of(), List.of("run", "--config", config));
        Process second = null;
        try {
            await("the first instance runs").atMost(Duration.ofSeconds(120)).until(() -> {
                assertThat(first.isAlive()).as("first instance alive").isTrue();
                return Files.readString(ChildJvm.log(p.id + "-first")).contains("cachepipe running");
            });
            // the first instance's writer must hold the member id before the second one claims it
            try (Admin admin = EmbeddedKafka.shared().admin()) {
                await("the first instance's writer joined its group")
                        .atMost(Duration.ofSeconds(120))
                        .ignoreExceptions() // the group does not exist until the writer joins
                        .until(() -> admin
                                .describeConsumerGroups(List.of(p.id + "-writer"))
                                .all()
                                .get()
                                .get(p.id + "-writer")
                                .members()
                                .stream()
                                .anyMatch(m -> m.groupInstanceId().isPresent()));
            }

            // the same configuration but its own Kafka Streams state directory (one process may lock it)
            String streamsState = "/streams/" + p.id;
            assertThat(p.yaml).contains(streamsState);
            Path secondConfig = Path.of(System.getProperty("java.io.tmpdir"), p.id + "-second.yaml");
            Files.writeString(secondConfig, p.yaml.replace(streamsState, streamsState + "-second"));
            second = ChildJvm.start(p.id + "-second", List.of(), List.of("run", "--config", secondConfig.toString()));

            assertThat(first.waitFor(120, TimeUnit.SECONDS))
                    .as("the fenced instance exits")
                    .isTrue();
            String log = Files.readString(ChildJvm.log(p.id + "-first"));
            assertThat(first.exitValue()).as(log).isEqualTo(1);
            assertThat(log).contains("cachepipe failed: ").contains("; exiting");
        } finally {
            ChildJvm.stop(first);
            ChildJvm.stop(second);
        }
    }
}
