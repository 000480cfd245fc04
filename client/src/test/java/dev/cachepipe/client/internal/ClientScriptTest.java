package dev.cachepipe.client.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class ClientScriptTest {

    @Test
    void shouldHashTheExactBytesSent() throws Exception {
        for (ClientScript c : ClientScript.values()) {
            var s = c.script();
            String expected =
                    HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(s.text()));
            assertThat(s.sha1()).isEqualTo(expected).hasSize(40);
        }
    }

    @Test
    void shouldDocumentKeysArgumentsAndRepliesInTheHeader() {
        for (ClientScript c : ClientScript.values()) {
            var s = c.script();
            String text = new String(s.text(), StandardCharsets.UTF_8);
            assertThat(text).contains("-- KEYS[1]", "-- ARGV[1]", "-- Returns ");
        }
    }

    @Test
    void shouldNeverUseTonumberForVersions() {
        String fill = new String(ClientScript.FILL_ENTRY.script().text(), StandardCharsets.UTF_8);

        assertThat(fill.lines().filter(l -> !l.startsWith("--"))).noneMatch(l -> l.contains("tonumber"));
    }
}
