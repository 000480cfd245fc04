package dev.cachepipe.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cachepipe.app.demo.ConsistencyCheck;
import dev.cachepipe.app.demo.EventGenerator;
import dev.cachepipe.app.demo.Oracle;
import dev.cachepipe.app.testing.TestPipeline;
import dev.cachepipe.avro.DomainEvent;
import dev.cachepipe.avro.Operation;
import dev.cachepipe.embedded.RedisServer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Acceptance 4: {@code cachepipe inspect} shows value, tombstone and fence entries, and Avro payloads. */
class InspectCommandIT {
    private static final String PROFILE_SCHEMA = """
            {"type": "record", "name": "Profile", "namespace": "com.example",
             "fields": [{"name": "name", "type": "string"}, {"name": "age", "type": "int"},
                        {"name": "email", "type": ["null", "string"], "default": null}]}""";

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
    void shouldShowValueTombstoneAndFenceEntriesWhenTheyAreInRedis() throws Exception {
        try (TestPipeline p = TestPipeline.start("inspect", redis, 1)) {
            Oracle oracle = p.oracle();
            Schema profile = new Schema.Parser().parse(PROFILE_SCHEMA);
            GenericRecord ada = new GenericData.Record(profile);
            ada.put("name", "Ada");
            ada.put("age", 36);
            ada.put("email", "ada@example.com");
            ByteBuffer avro = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), profile).encode(ada);
            try (EventGenerator generator = p.generator(EventGenerator.Settings.of(p.policies(), 1, 1), oracle);
                    ConsistencyCheck check = p.check(oracle)) {
                generator.publish(event(
                        "user",
                        "42",
                        3,
                        Operation.UPSERT,
                        "application/json",
                        "{\"name\":\"Ada\",\"roles\":[\"admin\"]}".getBytes(StandardCharsets.UTF_8)));
                generator.publish(event("user", "43", 5, Operation.DELETE, "application/json", null));
                generator.publish(event("order", "o-7", 2, Operation.UPSERT, "application/json", "{}".getBytes()));
                generator.publish(event("user", "44", 1, Operation.UPSERT, "application/avro", bytes(avro)));
                generator.flush();
                assertThat(check.awaitConsistent(Duration.ofSeconds(60)).mismatches())
                        .isEmpty();
            }
            String config = p.configFile().toString();

            TestPipeline.CliRun value = TestPipeline.cli("inspect", "user", "42", "--config", config);
            assertThat(value.exitCode()).as(value.toString()).isZero();
            assertThat(value.out())
                    .contains("key           " + p.id + ":user:42\n")
                    .contains("state         value\n")
                    .contains("version       3\n")
                    .contains("content type  application/json\n")
                    .containsPattern("occurred at   \\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z \\([0-9.]+ (ms|s) ago\\)\n")
                    .containsPattern("ttl           (59m|1h 00m)[^\n]* left\n")
                    .contains(
                            "payload       32 bytes, JSON:\n{\n  \"name\" : \"Ada\",\n  \"roles\" : [ \"admin\" ]\n}");

            TestPipeline.CliRun tombstone = TestPipeline.cli("inspect", "user", "43", "-c", config);
            assertThat(tombstone.exitCode()).as(tombstone.toString()).isZero();
            assertThat(tombstone.out())
                    .contains("state         tombstone (the entity was deleted")
                    .contains("version       5\n")
                    .containsPattern("ttl           (29m|30m)[^\n]* left\n")
                    .doesNotContain("payload");

            TestPipeline.CliRun fence = TestPipeline.cli("inspect", "order", "o-7", "-c", config);
            assertThat(fence.exitCode()).as(fence.toString()).isZero();
            assertThat(fence.out())
                    .contains("state         fence (the value was dropped at this version")
                    .contains("version       2\n")
                    .doesNotContain("payload");

            long fingerprint = SchemaNormalization.parsingFingerprint64(profile);
            TestPipeline.CliRun unknownSchema = TestPipeline.cli("inspect", "user", "44", "-c", config);
            assertThat(unknownSchema.exitCode()).as(unknownSchema.toString()).isZero();
            assertThat(unknownSchema.out())
                    .contains("content type  application/avro\n")
                    .contains("Avro single-object encoding, writer schema fingerprint "
                            + PayloadRenderer.hexFingerprint(fingerprint))
                    .contains("schema unknown: pass --schema FILE.avsc")
                    .contains("00000000  c3 01 ");

            Path avsc = Path.of(System.getProperty("java.io.tmpdir"), p.id + "-profile.avsc");
            Files.writeString(avsc, PROFILE_SCHEMA);
            TestPipeline.CliRun decoded =
                    TestPipeline.cli("inspect", "user", "44", "-c", config, "--schema", avsc.toString());
            assertThat(decoded.exitCode()).as(decoded.toString()).isZero();
            assertThat(decoded.out())
                    .contains(
                            "Avro com.example.Profile (fingerprint " + PayloadRenderer.hexFingerprint(fingerprint)
                                    + ") as JSON:\n{\n  \"name\" : \"Ada\",\n  \"age\" : 36,\n  \"email\" : \"ada@example.com\"\n}");

            TestPipeline.CliRun absent = TestPipeline.cli("inspect", "user", "nobody", "-c", config);
            assertThat(absent.exitCode()).as(absent.toString()).isEqualTo(1);
            assertThat(absent.out()).contains("state         absent: not in Redis");

            TestPipeline.CliRun badType = TestPipeline.cli("inspect", "User!", "1", "-c", config);
            assertThat(badType.exitCode()).as(badType.toString()).isEqualTo(2);
            assertThat(badType.err()).contains("ENTITY_TYPE must match [a-z0-9_-]{1,64} but was 'User!'");
        }
    }

    private static DomainEvent event(String type, String id, long version, Operation op, String ct, byte[] payload) {
        return DomainEvent.newBuilder()
                .setEventId(UUID.randomUUID().toString())
                .setEntityType(type)
                .setEntityId(id)
                .setVersion(version)
                .setOp(op)
                .setOccurredAt(Instant.ofEpochMilli(System.currentTimeMillis()))
                .setContentType(ct)
                .setPayload(payload == null ? null : ByteBuffer.wrap(payload))
                .build();
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}
