package dev.cachepipe.schemas;

import org.apache.kafka.common.errors.SerializationException;

/**
 * The bytes are Avro single-object encoding, but written with a schema this reader does not know (its fingerprint
 * is not registered): typically a newer producer. Not corrupt input — the reader needs an upgrade, or the writer
 * schema registered with {@link AvroSerde#withWriterSchemas}.
 */
public final class UnknownSchemaException extends SerializationException {
    private static final long serialVersionUID = 1L;

    public UnknownSchemaException(String message, Throwable cause) {
        super(message, cause);
    }
}
