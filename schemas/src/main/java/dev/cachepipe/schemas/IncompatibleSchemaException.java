package dev.cachepipe.schemas;

import org.apache.kafka.common.errors.SerializationException;

/**
 * The record's writer schema is known, but records written with it cannot be read into the reader's (current) schema
 * by Avro schema resolution, or it is not an Avro schema at all: the producer's schema is not compatible with the
 * contract.
 */
public final class IncompatibleSchemaException extends SerializationException {
    private static final long serialVersionUID = 1L;

    public IncompatibleSchemaException(String message, Throwable cause) {
        super(message, cause);
    }
}
