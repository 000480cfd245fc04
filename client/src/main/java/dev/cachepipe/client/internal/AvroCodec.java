package dev.cachepipe.client.internal;

import dev.cachepipe.client.Codec;
import dev.cachepipe.schemas.AvroSerde;
import java.util.Objects;
import org.apache.avro.specific.SpecificRecord;

/** {@link Codec#avro}: Avro single-object encoding through {@link AvroSerde}. Not API. */
public final class AvroCodec<T extends SpecificRecord> implements Codec<T> {
    /** Content type of Avro single-object encoded payloads. */
    public static final String CONTENT_TYPE = "application/avro";

    private final Class<T> type;
    private final AvroSerde<T> serde;

    public AvroCodec(Class<T> type) {
        this.type = Objects.requireNonNull(type, "type");
        this.serde = AvroSerde.of(type);
    }

    @Override
    public String contentType() {
        return CONTENT_TYPE;
    }

    @Override
    public byte[] encode(T value) {
        return serde.encode(Objects.requireNonNull(value, "value"));
    }

    @Override
    public T decode(byte[] payload) {
        return serde.decode(payload);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AvroCodec<?> c && c.type.equals(type);
    }

    @Override
    public int hashCode() {
        return type.hashCode();
    }

    @Override
    public String toString() {
        return "Codec.avro(" + type.getName() + ")";
    }
}
