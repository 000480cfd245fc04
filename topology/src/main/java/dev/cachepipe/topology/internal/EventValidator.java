package dev.cachepipe.topology.internal;

import dev.cachepipe.avro.DomainEvent;
import dev.cachepipe.avro.Operation;
import dev.cachepipe.schemas.RedisLayout;
import dev.cachepipe.topology.DeadLetterReason;
import dev.cachepipe.topology.EntityPolicy;
import dev.cachepipe.topology.TopologyConfig;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Checks a decoded domain event against the contract and the configuration. */
final class EventValidator {
    static final int MAX_ENTITY_ID_BYTES = 512;
    private static final int MAX_QUOTED_CHARS = 80;

    private final TopologyConfig config;

    EventValidator(TopologyConfig config) {
        this.config = config;
    }

    /**
     * Returns the policy of the event's entity type.
     *
     * @throws InvalidEventException if the event is not valid; the detail never contains payload bytes
     */
    EntityPolicy validate(String sourceTopic, byte[] recordKey, DomainEvent event) {
        if (event == null) {
            throw new InvalidEventException(
                    DeadLetterReason.NULL_VALUE, "record value is null; a domain event record must carry a value");
        }
        String type = event.getEntityType();
        // a configured type is a valid name: the regex only runs to tell why an unknown one is refused
        EntityPolicy policy = type == null ? null : config.entities().get(type);
        if (policy == null && !RedisLayout.isValidEntityType(type)) {
            throw new InvalidEventException(
                    DeadLetterReason.INVALID_ENTITY_TYPE,
                    "entityType must match [a-z0-9_-]{1,64} but was " + quote(type));
        }
        if (policy == null) {
            throw new InvalidEventException(
                    DeadLetterReason.UNKNOWN_ENTITY_TYPE,
                    "entityType " + quote(type) + " has no policy; configured: "
                            + config.entities().keySet());
        }
        if (!policy.topics().contains(sourceTopic)) {
            throw new InvalidEventException(
                    DeadLetterReason.ENTITY_TYPE_NOT_ON_TOPIC,
                    "entityType " + quote(type) + " arrived on topic " + quote(sourceTopic)
                            + " but its policy lists only " + policy.topics());
        }
        String id = event.getEntityId();
        byte[] idUtf8 = id.getBytes(StandardCharsets.UTF_8);
        int idBytes = idUtf8.length;
        if (idBytes < 1 || idBytes > MAX_ENTITY_ID_BYTES) {
            throw new InvalidEventException(
                    DeadLetterReason.INVALID_ENTITY_ID,
                    "entityId of " + type + " must be 1 to " + MAX_ENTITY_ID_BYTES + " bytes of UTF-8 but was "
                            + idBytes + " bytes");
        }
        for (int i = 0; i < id.length(); ) {
            int cp = id.codePointAt(i);
            if (Character.isISOControl(cp)) {
                throw new InvalidEventException(
                        DeadLetterReason.INVALID_ENTITY_ID,
                        "entityId of " + type + " must not contain control characters but has "
                                + String.format("U+%04X", cp) + " at index " + i);
            }
            i += Character.charCount(cp);
        }
        if (recordKey == null || !java.util.Arrays.equals(recordKey, idUtf8)) {
            throw new InvalidEventException(
                    DeadLetterReason.KEY_MISMATCH,
                    "the record key must be the entityId " + quote(id) + " as UTF-8 but was "
                            + (recordKey == null ? "null" : quote(new String(recordKey, StandardCharsets.UTF_8))));
        }
        if (event.getVersion() < 0) {
            throw new InvalidEventException(
                    DeadLetterReason.NEGATIVE_VERSION, "version of " + subject(event) + " must be >= 0");
        }
        ByteBuffer payload = event.getPayload();
        if (event.getOp() == Operation.UPSERT && payload == null) {
            throw new InvalidEventException(
                    DeadLetterReason.MISSING_PAYLOAD, "UPSERT of " + subject(event) + " has no payload");
        }
        if (payload != null && payload.remaining() > policy.maxPayloadBytes()) {
            throw new InvalidEventException(
                    DeadLetterReason.PAYLOAD_TOO_LARGE,
                    "payload of " + subject(event) + " is " + payload.remaining() + " bytes but entities." + type
                            + ".maxPayloadBytes is " + policy.maxPayloadBytes());
        }
        return policy;
    }

    /** How an error message names the event: type, quoted id and version (built only when there is an error). */
    private static String subject(DomainEvent event) {
        return event.getEntityType() + " " + quote(event.getEntityId()) + " version " + event.getVersion();
    }

    /** Quotes a producer-supplied string for logs and headers: control characters escaped, length capped. */
    static String quote(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder("\"");
        int n = Math.min(s.length(), MAX_QUOTED_CHARS);
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (Character.isISOControl(c) || c == '"' || c == '\\') {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        sb.append('"');
        return s.length() > n
                ? sb.append("...(").append(s.length()).append(" chars)").toString()
                : sb.toString();
    }
}
