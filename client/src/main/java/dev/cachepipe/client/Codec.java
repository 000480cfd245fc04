package dev.cachepipe.client;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cachepipe.client.internal.AvroCodec;
import dev.cachepipe.client.internal.BytesCodec;
import dev.cachepipe.client.internal.JsonCodec;
import org.apache.avro.specific.SpecificRecord;

/**
 * Turns the payload bytes of a Redis entry (field {@code d}, content type in field {@code ct}) into a value and back.
 * The pipeline stores payloads exactly as the domain events carried them, so the codec must match what the owning
 * service publishes.
 *
 * <p>Implementations must be thread-safe and should implement {@code equals} so that {@link
 * CacheClient#entity(String, Codec)} can tell a repeated registration from a conflicting one.
 *
 * @param <T> the entity's Java type
 */
public interface Codec<T> {

    /** The content type this codec writes ({@code ct} of filled entries), e.g. {@code application/json}. */
    String contentType();

    /** Encodes a value a loader returned, for the Redis fill. */
    byte[] encode(T value);

    /**
     * Decodes a payload.
     *
     * @throws RuntimeException if the bytes are not a valid payload (the read then counts as an L2 miss)
     */
    T decode(byte[] payload);

    /**
     * Whether this codec can decode a payload stored with {@code contentType} ({@code null} when the entry has none).
     * By default: {@code null}, the same type ignoring case, or the same type with parameters ({@code ;charset=...}).
     */
    default boolean accepts(String contentType) {
        if (contentType == null) {
            return true;
        }
        String own = contentType();
        return contentType.regionMatches(true, 0, own, 0, own.length())
                && (contentType.length() == own.length()
                        || contentType.charAt(own.length()) == ';'
                        || contentType.charAt(own.length()) == ' ');
    }

    /**
     * Avro single-object encoding ({@code C3 01}, schema fingerprint, body) of a generated {@code SpecificRecord}
     * class; content type {@code application/avro}.
     */
    static <T extends SpecificRecord> Codec<T> avro(Class<T> type) {
        return new AvroCodec<>(type);
    }

    /** JSON through a default Jackson {@code ObjectMapper} (with JSR-310 types if on the class path); {@code application/json}. */
    static <T> Codec<T> json(Class<T> type) {
        return new JsonCodec<>(type, JsonCodec.defaultMapper());
    }

    /** JSON through the given {@code ObjectMapper} (not modified; must not be reconfigured afterwards). */
    static <T> Codec<T> json(Class<T> type, ObjectMapper mapper) {
        return new JsonCodec<>(type, mapper);
    }

    /** The raw payload bytes, whatever the content type; writes {@code application/octet-stream}. */
    static Codec<byte[]> bytes() {
        return BytesCodec.INSTANCE;
    }
}
