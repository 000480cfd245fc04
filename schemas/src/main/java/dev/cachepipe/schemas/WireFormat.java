package dev.cachepipe.schemas;

import java.util.Locale;

/**
 * How a domain event's Kafka value is framed: Avro single-object encoding, the Confluent Schema Registry wire format,
 * or either, told apart per record by its first bytes ({@link #AUTO}).
 */
public enum WireFormat {
    /** Avro single-object encoding: {@code C3 01}, the 8-byte CRC-64-AVRO fingerprint of the writer schema, the body. */
    SINGLE_OBJECT("single-object"),
    /** Confluent's wire format: byte {@code 00}, the writer schema's registry id (4 bytes, big-endian), the body. */
    CONFLUENT("confluent"),
    /** Either of the two, decided per record by its first bytes ({@code C3 01} or {@code 00}). */
    AUTO("auto");

    /** The first byte of the Confluent wire format. */
    public static final byte CONFLUENT_MAGIC = 0x00;

    /** Bytes before the Avro body in the Confluent wire format: the magic byte and the 4-byte schema id. */
    public static final int CONFLUENT_HEADER_BYTES = 5;

    /** Bytes before the Avro body in single-object encoding: {@code C3 01} and the 8-byte fingerprint. */
    public static final int SINGLE_OBJECT_HEADER_BYTES = 10;

    private final String configName;

    WireFormat(String configName) {
        this.configName = configName;
    }

    /** The name used in configuration and on the command line: {@code single-object}, {@code confluent}, {@code auto}. */
    public String configName() {
        return configName;
    }

    /** The format named {@code name} (as {@link #configName()}, any case). */
    public static WireFormat parse(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        for (WireFormat f : values()) {
            if (f.configName.equals(n)) {
                return f;
            }
        }
        throw new IllegalArgumentException("wire format must be one of single-object, confluent, auto but was "
                + (name == null ? "null" : "'" + name + "'"));
    }

    /**
     * The format whose header {@code bytes} start with: {@link #SINGLE_OBJECT} ({@code C3 01} and room for a
     * fingerprint), {@link #CONFLUENT} ({@code 00} and room for a schema id), or {@code null} for neither.
     */
    public static WireFormat detect(byte[] bytes) {
        if (bytes == null || bytes.length == 0) {
            return null;
        }
        if (bytes[0] == CONFLUENT_MAGIC) {
            return bytes.length >= CONFLUENT_HEADER_BYTES ? CONFLUENT : null;
        }
        if (bytes[0] == (byte) 0xC3 && bytes.length >= SINGLE_OBJECT_HEADER_BYTES && bytes[1] == (byte) 0x01) {
            return SINGLE_OBJECT;
        }
        return null;
    }

    /** Whether a record of format {@code actual} is read under this setting. */
    public boolean accepts(WireFormat actual) {
        return actual != null && (this == AUTO || this == actual);
    }

    @Override
    public String toString() {
        return configName;
    }
}
