package dev.cachepipe.client.internal;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cachepipe.client.Codec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Objects;

/** {@link Codec#json}: JSON through Jackson. Not API. */
public final class JsonCodec<T> implements Codec<T> {
    /** Content type of JSON payloads. */
    public static final String CONTENT_TYPE = "application/json";

    private static final ObjectMapper DEFAULT =
            new ObjectMapper().findAndRegisterModules().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private final Class<T> type;
    private final ObjectMapper mapper;

    public JsonCodec(Class<T> type, ObjectMapper mapper) {
        this.type = Objects.requireNonNull(type, "type");
        this.mapper = Objects.requireNonNull(mapper, "mapper");
    }

    /**
     * The shared default mapper: modules on the class path registered, unknown properties ignored (services add
     * fields before their readers know them).
     */
    public static ObjectMapper defaultMapper() {
        return DEFAULT;
    }

    @Override
    public String contentType() {
        return CONTENT_TYPE;
    }

    @Override
    public byte[] encode(T value) {
        try {
            return mapper.writeValueAsBytes(Objects.requireNonNull(value, "value"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode " + type.getSimpleName() + " as JSON", e);
        }
    }

    @Override
    public T decode(byte[] payload) {
        try {
            T value = mapper.readValue(payload, type);
            if (value == null) {
                throw new IllegalArgumentException("JSON payload is null, not a " + type.getSimpleName());
            }
            return value;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot decode JSON as " + type.getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof JsonCodec<?> c && c.type.equals(type) && c.mapper == mapper;
    }

    @Override
    public int hashCode() {
        return type.hashCode() * 31 + System.identityHashCode(mapper);
    }

    @Override
    public String toString() {
        return "Codec.json(" + type.getName() + ")";
    }
}
