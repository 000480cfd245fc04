package dev.cachepipe.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.junit.jupiter.api.Test;

class PayloadRendererTest {
    private static final Schema POINT = new Schema.Parser()
            .parse("{\"type\":\"record\",\"name\":\"Point\",\"fields\":[{\"name\":\"x\",\"type\":\"int\"},"
                    + "{\"name\":\"label\",\"type\":[\"null\",\"string\"]}]}");

    private static byte[] point(int x, String label) throws java.io.IOException {
        GenericRecord r = new GenericData.Record(POINT);
        r.put("x", x);
        r.put("label", label);
        ByteBuffer b = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), POINT).encode(r);
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    @Test
    void shouldPrettyPrintJsonWhenTheContentTypeIsJson() {
        String out = new PayloadRenderer(List.of())
                .render("application/json; charset=utf-8", "{\"a\":[1,2]}".getBytes(StandardCharsets.UTF_8));
        assertThat(out).isEqualTo("11 bytes, JSON:\n{\n  \"a\" : [ 1, 2 ]\n}");
    }

    @Test
    void shouldShowTheTextWhenJsonDoesNotParse() {
        String out =
                new PayloadRenderer(List.of()).render("application/json", "{oops".getBytes(StandardCharsets.UTF_8));
        assertThat(out).startsWith("5 bytes, not valid JSON (").endsWith("):\n{oops");
    }

    @Test
    void shouldDecodeAvroWithTheSchemaWhoseFingerprintMatches() throws Exception {
        Schema other = new Schema.Parser().parse("{\"type\":\"record\",\"name\":\"Other\",\"fields\":[]}");
        String out = new PayloadRenderer(List.of(other, POINT)).render("application/avro", point(3, "p"));
        assertThat(out)
                .contains("Avro Point (fingerprint "
                        + PayloadRenderer.hexFingerprint(SchemaNormalization.parsingFingerprint64(POINT)) + ")")
                .endsWith("as JSON:\n{\n  \"x\" : 3,\n  \"label\" : \"p\"\n}");
    }

    @Test
    void shouldShowFingerprintAndHexWhenTheAvroSchemaIsUnknown() throws Exception {
        byte[] bytes = point(1, null);
        String out = new PayloadRenderer(List.of()).render("application/avro", bytes);
        assertThat(out)
                .startsWith(bytes.length + " bytes, Avro single-object encoding, writer schema fingerprint 0x")
                .contains("schema unknown: pass --schema FILE.avsc")
                .contains("00000000  c3 01 ");
        assertThat(new PayloadRenderer(List.of()).render("application/avro", new byte[] {1, 2, 3}))
                .startsWith("3 bytes, not Avro single-object encoding (no C3 01 header), hex:\n00000000  01 02 03");
    }

    @Test
    void shouldDumpHexWithAsciiAndCutLongPayloads() {
        byte[] bytes = new byte[PayloadRenderer.MAX_HEX_BYTES + 10];
        bytes[0] = 'A';
        String dump = PayloadRenderer.hexDump(bytes);
        assertThat(dump).startsWith("00000000  41 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |A...............|");
        assertThat(dump).endsWith("... 10 more bytes");
        assertThat(new PayloadRenderer(List.of()).render("image/png", new byte[] {(byte) 0x89, 'P'}))
                .isEqualTo("2 bytes, hex:\n00000000  89 50" + " ".repeat(3 * 14 + 1) + "  |.P|");
    }
}
