package dev.cachepipe.app.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;

/**
 * Renders a cached payload for people: JSON pretty-printed, Avro single-object encoding decoded with a schema whose
 * fingerprint matches (rendered as JSON), text as text, anything else (and Avro without its schema) as a hex dump.
 */
final class PayloadRenderer {
    /** Bytes shown in a hex dump at most. */
    static final int MAX_HEX_BYTES = 512;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Map<Long, Schema> schemas = new HashMap<>();

    /** @param avroSchemas writer schemas to decode {@code application/avro} payloads with, by fingerprint */
    PayloadRenderer(List<Schema> avroSchemas) {
        for (Schema s : avroSchemas) {
            schemas.put(SchemaNormalization.parsingFingerprint64(s), s);
        }
    }

    /** The CRC-64-AVRO fingerprint as single-object encoding writes it, e.g. {@code 0x9a3c...}. */
    static String hexFingerprint(long fingerprint) {
        return String.format(Locale.ROOT, "0x%016x", fingerprint);
    }

    /** A heading line ({@code 58 bytes, JSON:}) followed by the rendering. */
    String render(String contentType, byte[] payload) {
        String ct = contentType == null ? "" : contentType.toLowerCase(Locale.ROOT);
        String size = payload.length + (payload.length == 1 ? " byte" : " bytes");
        if (ct.startsWith("application/avro")) {
            return avro(payload, size);
        }
        if (isJson(ct)) {
            try {
                JsonNode node = JSON.readTree(payload);
                if (node != null) {
                    return size + ", JSON:\n"
                            + JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node);
                }
            } catch (IOException e) {
                return size + ", not valid JSON (" + firstLine(e.getMessage()) + "):\n" + textOrHex(payload);
            }
        }
        if (ct.startsWith("text/") || ct.isEmpty()) {
            String text = utf8(payload);
            if (text != null) {
                return size + ", text:\n" + text;
            }
        }
        return size + ", hex:\n" + hexDump(payload);
    }

    private String avro(byte[] payload, String size) {
        if (payload.length < 10 || payload[0] != (byte) 0xC3 || payload[1] != (byte) 0x01) {
            return size + ", not Avro single-object encoding (no C3 01 header), hex:\n" + hexDump(payload);
        }
        long fingerprint =
                ByteBuffer.wrap(payload, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        Schema schema = schemas.get(fingerprint);
        if (schema == null) {
            return size + ", Avro single-object encoding, writer schema fingerprint " + hexFingerprint(fingerprint)
                    + (schemas.isEmpty()
                            ? "; schema unknown: pass --schema FILE.avsc to decode it"
                            : "; none of the --schema files has this fingerprint")
                    + ", hex:\n" + hexDump(payload);
        }
        try {
            BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(payload, 10, payload.length - 10, null);
            Object datum = new GenericDatumReader<>(schema).read(null, decoder);
            String json = GenericData.get().toString(datum);
            String pretty;
            try {
                pretty = JSON.writerWithDefaultPrettyPrinter().writeValueAsString(JSON.readTree(json));
            } catch (IOException e) {
                pretty = json;
            }
            return size + ", Avro " + schema.getFullName() + " (fingerprint " + hexFingerprint(fingerprint)
                    + ") as JSON:\n" + pretty;
        } catch (IOException | RuntimeException e) {
            return size + ", Avro " + schema.getFullName() + " but it does not decode with that schema ("
                    + firstLine(String.valueOf(e.getMessage())) + "), hex:\n" + hexDump(payload);
        }
    }

    private static boolean isJson(String ct) {
        String base = ct.split(";", 2)[0].trim();
        return base.equals("application/json") || base.endsWith("+json") || base.equals("text/json");
    }

    private static String textOrHex(byte[] payload) {
        String text = utf8(payload);
        return text != null ? text : hexDump(payload);
    }

    /** The bytes as UTF-8 text, or null if they are not valid UTF-8 or hold control characters. */
    private static String utf8(byte[] payload) {
        try {
            String s = StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(payload))
                    .toString();
            boolean control = s.chars().anyMatch(c -> Character.isISOControl(c) && c != '\n' && c != '\r' && c != '\t');
            return control ? null : s;
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** {@code 00000000  c3 01 ...  |..|}, 16 bytes a line, at most {@link #MAX_HEX_BYTES}. */
    static String hexDump(byte[] bytes) {
        StringBuilder sb = new StringBuilder();
        HexFormat hex = HexFormat.of();
        int shown = Math.min(bytes.length, MAX_HEX_BYTES);
        for (int off = 0; off < shown; off += 16) {
            int end = Math.min(shown, off + 16);
            sb.append(String.format(Locale.ROOT, "%08x  ", off));
            StringBuilder ascii = new StringBuilder();
            for (int i = off; i < off + 16; i++) {
                if (i < end) {
                    sb.append(hex.toHexDigits(bytes[i])).append(' ');
                    int c = bytes[i] & 0xFF;
                    ascii.append(c >= 0x20 && c < 0x7F ? (char) c : '.');
                } else {
                    sb.append("   ");
                }
                if (i == off + 7) {
                    sb.append(' ');
                }
            }
            sb.append(" |").append(ascii).append("|\n");
        }
        if (bytes.length > shown) {
            sb.append("... ").append(bytes.length - shown).append(" more bytes\n");
        }
        return sb.toString().stripTrailing();
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
