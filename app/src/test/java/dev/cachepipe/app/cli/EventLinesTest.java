package dev.cachepipe.app.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cachepipe.app.config.CachepipeConfig;
import dev.cachepipe.avro.DomainEvent;
import dev.cachepipe.avro.Operation;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The JSON line format of {@code cachepipe publish}. */
class EventLinesTest {
    private static final CachepipeConfig CONFIG = CachepipeConfig.parse("""
            entities:
              user:
                topics: [users.events, legacy.users]
                maxPayloadBytes: 20
              order:
                topics: [orders.events]
                mode: invalidate
            """, Map.of());

    private final EventLines lines = new EventLines(CONFIG);

    @Test
    void shouldBuildAnUpsertWithTheJsonPayloadAsUtf8BytesWhenAllFieldsAreGiven() throws Exception {
        EventLines.Event e = lines.parse("{\"entityType\":\"user\",\"entityId\":\"42\",\"version\":7,\"op\":\"UPSERT\","
                + "\"payload\":{\"name\": \"Zoë\"},\"eventId\":\"e-1\",\"occurredAt\":\"2025-01-31T12:00:00Z\","
                + "\"attributes\":{\"tenant\":\"acme\"},\"topic\":\"legacy.users\"}");
        DomainEvent d = e.event();
        assertThat(e.topic()).isEqualTo("legacy.users");
        assertThat(d.getEntityType()).isEqualTo("user");
        assertThat(d.getEntityId()).isEqualTo("42");
        assertThat(d.getVersion()).isEqualTo(7);
        assertThat(d.getOp()).isEqualTo(Operation.UPSERT);
        assertThat(d.getContentType()).isEqualTo("application/json");
        assertThat(StandardCharsets.UTF_8.decode(d.getPayload()).toString()).isEqualTo("{\"name\":\"Zoë\"}");
        assertThat(d.getEventId()).isEqualTo("e-1");
        assertThat(d.getOccurredAt()).isEqualTo(Instant.parse("2025-01-31T12:00:00Z"));
        assertThat(d.getAttributes()).containsEntry("tenant", "acme");
    }

    @Test
    void shouldFillDefaultsWhenOptionalFieldsAreMissing() throws Exception {
        long before = System.currentTimeMillis();
        EventLines.Event e = lines.parse("{\"entityType\":\"order\",\"entityId\":99,\"version\":0,\"op\":\"delete\"}");
        DomainEvent d = e.event();
        assertThat(e.topic()).isEqualTo("orders.events");
        assertThat(d.getEntityId()).isEqualTo("99");
        assertThat(d.getOp()).isEqualTo(Operation.DELETE);
        assertThat(d.getPayload()).isNull();
        assertThat(d.getEventId()).hasSize(36);
        assertThat(d.getOccurredAt().toEpochMilli()).isBetween(before, System.currentTimeMillis());
        assertThat(d.getAttributes()).isEmpty();
        assertThat(lines.parse("{\"entityType\":\"user\",\"entityId\":\"1\",\"version\":1,\"op\":\"UPSERT\","
                                + "\"payload\":\"text\",\"occurredAt\":1700000000000}")
                        .event()
                        .getOccurredAt())
                .isEqualTo(Instant.ofEpochMilli(1_700_000_000_000L));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            {"entityType":"user","entityId":"1","version":1,"op":"UPSERT"                   | not valid JSON at column
            [1,2]                                                                             | expected a JSON object but got array [1,2]
            {"entityId":"1","version":1,"op":"UPSERT","payload":1}                             | 'entityType' is required
            {"entityType":"User","entityId":"1","version":1,"op":"UPSERT","payload":1}         | 'entityType' must match [a-z0-9_-]{1,64} but was "User"
            {"entityType":"invoice","entityId":"1","version":1,"op":"UPSERT","payload":1}      | 'entityType' "invoice" is not configured; configured: order, user
            {"entityType":"user","entityId":"","version":1,"op":"UPSERT","payload":1}          | 'entityId' must be 1 to 512 bytes of UTF-8 but was 0
            {"entityType":"user","entityId":true,"version":1,"op":"UPSERT","payload":1}        | 'entityId' must be a string but was boolean true
            {"entityType":"user","entityId":"1","version":-1,"op":"UPSERT","payload":1}        | 'version' must be >= 0 but was -1
            {"entityType":"user","entityId":"1","version":1.5,"op":"UPSERT","payload":1}       | 'version' must be a whole number >= 0 but was number 1.5
            {"entityType":"user","entityId":"1","op":"UPSERT","payload":1}                     | 'version' is required
            {"entityType":"user","entityId":"1","version":1,"op":"PATCH","payload":1}          | 'op' must be UPSERT or DELETE but was "PATCH"
            {"entityType":"user","entityId":"1","version":1,"op":"UPSERT"}                     | an UPSERT needs a 'payload' (any JSON value but null)
            {"entityType":"user","entityId":"1","version":1,"op":"DELETE","payload":{}}        | a DELETE has no 'payload' but one was given
            {"entityType":"user","entityId":"1","version":1,"op":"UPSERT","payload":"0123456789abcdefghij"} | 'payload' is 22 bytes of JSON; entities.user.maxPayloadBytes allows 20
            {"entityType":"user","entityId":"1","version":1,"op":"UPSERT","payload":1,"topic":"orders.events"} | 'topic' "orders.events" is not a topic of entity type user
            {"entityType":"user","entityId":"1","version":1,"op":"UPSERT","payload":1,"occurredAt":"yesterday"} | 'occurredAt' must be epoch milliseconds or an ISO-8601 instant
            {"entityType":"user","entityId":"1","version":1,"op":"UPSERT","payload":1,"attributes":{"n":1}} | 'attributes.n' must be a string but was number 1
            {"entityType":"user","entityId":"1","version":1,"op":"UPSERT","payload":1,"colour":"red"} | unknown field 'colour'; allowed: attributes, entityId
            """)
    void shouldSayWhatIsWrongWhenALineIsBad(String line, String message) {
        assertThatThrownBy(() -> lines.parse(line.strip()))
                .isInstanceOf(EventLines.BadLine.class)
                .hasMessageContaining(message.strip());
    }

    @Test
    void shouldSkipBlankAndCommentLines() {
        assertThat(EventLines.isSkippable("")).isTrue();
        assertThat(EventLines.isSkippable("   ")).isTrue();
        assertThat(EventLines.isSkippable("  # a comment")).isTrue();
        assertThat(EventLines.isSkippable("{}")).isFalse();
    }
}
