package dev.cachepipe.app.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import dev.cachepipe.app.config.CachepipeConfig;
import dev.cachepipe.avro.DomainEvent;
import dev.cachepipe.avro.Operation;
import dev.cachepipe.schemas.RedisLayout;
import dev.cachepipe.topology.EntityPolicy;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Domain events written as JSON lines, for {@code cachepipe publish}. One JSON object per line:
 *
 * <pre>
 * {"entityType":"user","entityId":"42","version":7,"op":"UPSERT","payload":{"name":"Ada"}}
 * {"entityType":"user","entityId":"43","version":3,"op":"DELETE"}
 * </pre>
 *
 * <table>
 *   <caption>fields</caption>
 *   <tr><td>entityType</td><td>required; a configured entity type</td></tr>
 *   <tr><td>entityId</td><td>required; a string (or a whole number), 1–512 bytes of UTF-8, no control characters</td></tr>
 *   <tr><td>version</td><td>required; a whole number >= 0</td></tr>
 *   <tr><td>op</td><td>required; UPSERT or DELETE (any case)</td></tr>
 *   <tr><td>payload</td><td>any JSON value; required for UPSERT, absent or null for DELETE; sent as its UTF-8 JSON
 *       bytes with contentType application/json</td></tr>
 *   <tr><td>eventId</td><td>optional string (default: a random UUID)</td></tr>
 *   <tr><td>occurredAt</td><td>optional: epoch milliseconds or an ISO-8601 instant (default: now)</td></tr>
 *   <tr><td>attributes</td><td>optional object of string values</td></tr>
 *   <tr><td>topic</td><td>optional: one of the entity type's topics (default: its first)</td></tr>
 * </table>
 *
 * <p>Blank lines and lines starting with {@code #} are skipped. Anything else that breaks these rules is a bad line,
 * reported with what is wrong.
 */
final class EventLines {
    static final Set<String> FIELDS = Set.of(
            "entityType", "entityId", "version", "op", "payload", "eventId", "occurredAt", "attributes", "topic");
    static final int MAX_ENTITY_ID_BYTES = 512;

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One good line: the event and the topic it goes to. */
    record Event(DomainEvent event, String topic) {}

    /** A line that cannot be published; the message says why. */
    static final class BadLine extends Exception {
        BadLine(String message) {
            super(message);
        }
    }

    private final CachepipeConfig config;

    EventLines(CachepipeConfig config) {
        this.config = config;
    }

    /** Whether the line carries no event (blank or a {@code #} comment). */
    static boolean isSkippable(String line) {
        String t = line.strip();
        return t.isEmpty() || t.startsWith("#");
    }

    Event parse(String line) throws BadLine {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            String why = e.getOriginalMessage();
            int cut = why.indexOf(" (start marker");
            why = (cut > 0 ? why.substring(0, cut) : why).split("\n", 2)[0];
            throw new BadLine("not valid JSON"
                    + (e.getLocation() == null
                            ? ""
                            : " at column " + e.getLocation().getColumnNr()) + ": " + why);
        }
        if (node == null || !node.isObject()) {
            throw new BadLine("expected a JSON object but got " + describe(node));
        }
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) {
                throw new BadLine(
                        "unknown field '" + f + "'; allowed: " + String.join(", ", new java.util.TreeSet<>(FIELDS)));
            }
        }
        String type = text(node, "entityType", true);
        EntityPolicy policy = config.entities().get(type);
        if (policy == null) {
            if (!RedisLayout.isValidEntityType(type)) {
                throw new BadLine("'entityType' must match [a-z0-9_-]{1,64} but was \"" + type + "\"");
            }
            throw new BadLine("'entityType' \"" + type + "\" is not configured; configured: "
                    + String.join(
                            ", ", new java.util.TreeSet<>(config.entities().keySet())));
        }
        String id = entityId(node);
        long version = version(node);
        Operation op = op(node);
        JsonNode payloadNode = node.get("payload");
        boolean hasPayload = payloadNode != null && !payloadNode.isNull();
        ByteBuffer payload = null;
        if (op == Operation.UPSERT) {
            if (!hasPayload) {
                throw new BadLine("an UPSERT needs a 'payload' (any JSON value but null)");
            }
            byte[] bytes;
            try {
                bytes = JSON.writeValueAsBytes(payloadNode);
            } catch (JsonProcessingException e) {
                throw new BadLine("'payload' cannot be written as JSON: " + e.getOriginalMessage());
            }
            if (bytes.length > policy.maxPayloadBytes()) {
                throw new BadLine("'payload' is " + bytes.length + " bytes of JSON; entities." + type
                        + ".maxPayloadBytes allows " + policy.maxPayloadBytes());
            }
            payload = ByteBuffer.wrap(bytes);
        } else if (hasPayload) {
            throw new BadLine("a DELETE has no 'payload' but one was given");
        }
        String topic =
                node.has("topic") ? text(node, "topic", true) : policy.topics().get(0);
        if (!policy.topics().contains(topic)) {
            throw new BadLine(
                    "'topic' \"" + topic + "\" is not a topic of entity type " + type + " (" + policy.topics() + ")");
        }
        String eventId = node.has("eventId")
                ? text(node, "eventId", true)
                : UUID.randomUUID().toString();
        DomainEvent event = DomainEvent.newBuilder()
                .setEventId(eventId)
                .setEntityType(type)
                .setEntityId(id)
                .setVersion(version)
                .setOp(op)
                .setOccurredAt(occurredAt(node))
                .setContentType("application/json")
                .setPayload(payload)
                .setAttributes(attributes(node))
                .build();
        return new Event(event, topic);
    }

    private static String text(JsonNode node, String field, boolean required) throws BadLine {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            if (required) {
                throw new BadLine("'" + field + "' is required");
            }
            return null;
        }
        if (!v.isTextual()) {
            throw new BadLine("'" + field + "' must be a string but was " + describe(v));
        }
        return v.asText();
    }

    private static String entityId(JsonNode node) throws BadLine {
        JsonNode v = node.get("entityId");
        String id;
        if (v != null && v.isIntegralNumber()) {
            id = v.asText();
        } else {
            id = text(node, "entityId", true);
        }
        int bytes = id.getBytes(StandardCharsets.UTF_8).length;
        if (bytes == 0 || bytes > MAX_ENTITY_ID_BYTES) {
            throw new BadLine("'entityId' must be 1 to " + MAX_ENTITY_ID_BYTES + " bytes of UTF-8 but was " + bytes);
        }
        if (id.chars().anyMatch(Character::isISOControl)) {
            throw new BadLine("'entityId' must not contain control characters");
        }
        return id;
    }

    private static long version(JsonNode node) throws BadLine {
        JsonNode v = node.get("version");
        if (v == null || v.isNull()) {
            throw new BadLine("'version' is required");
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw new BadLine("'version' must be a whole number >= 0 but was " + describe(v));
        }
        if (v.asLong() < 0) {
            throw new BadLine("'version' must be >= 0 but was " + v.asLong());
        }
        return v.asLong();
    }

    private static Operation op(JsonNode node) throws BadLine {
        String op = text(node, "op", true);
        try {
            return Operation.valueOf(op.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new BadLine("'op' must be UPSERT or DELETE but was \"" + op + "\"");
        }
    }

    private static Instant occurredAt(JsonNode node) throws BadLine {
        JsonNode v = node.get("occurredAt");
        if (v == null || v.isNull()) {
            return Instant.ofEpochMilli(System.currentTimeMillis());
        }
        if (v.isIntegralNumber() && v.canConvertToLong()) {
            return Instant.ofEpochMilli(v.asLong());
        }
        if (v.isTextual()) {
            try {
                return Instant.parse(v.asText());
            } catch (DateTimeParseException e) {
                throw new BadLine("'occurredAt' must be epoch milliseconds or an ISO-8601 instant such as"
                        + " 2025-01-31T12:00:00Z but was \"" + v.asText() + "\"");
            }
        }
        throw new BadLine("'occurredAt' must be epoch milliseconds or an ISO-8601 instant but was " + describe(v));
    }

    private static Map<String, String> attributes(JsonNode node) throws BadLine {
        JsonNode v = node.get("attributes");
        Map<String, String> out = new LinkedHashMap<>();
        if (v == null || v.isNull()) {
            return out;
        }
        if (!v.isObject()) {
            throw new BadLine("'attributes' must be an object of strings but was " + describe(v));
        }
        for (Map.Entry<String, JsonNode> e : v.properties()) {
            if (!e.getValue().isTextual()) {
                throw new BadLine("'attributes." + e.getKey() + "' must be a string but was " + describe(e.getValue()));
            }
            out.put(e.getKey(), e.getValue().asText());
        }
        return out;
    }

    private static String describe(JsonNode v) {
        if (v == null) {
            return "nothing";
        }
        JsonNodeType t = v.getNodeType();
        String text = v.toString();
        if (text.length() > 40) {
            text = text.substring(0, 40) + "...";
        }
        return t.name().toLowerCase(Locale.ROOT) + " " + text;
    }
}
