package dev.cachepipe.writer;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class RedisScriptsTest {

    @Test
    void shouldHashTheExactBytesWhenComputingTheSha() throws Exception {
        for (RedisScripts.Script s : RedisScripts.Script.values()) {
            byte[] text = s.text();
            String expected =
                    HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(text));
            assertThat(s.sha1()).as(s.resource()).isEqualTo(expected).hasSize(40);
        }
        assertThat(RedisScripts.upsertSha()).isEqualTo(RedisScripts.Script.UPSERT_ENTRY.sha1());
        assertThat(RedisScripts.upsertScript()).isEqualTo(RedisScripts.Script.UPSERT_ENTRY.text());
    }

    @Test
    void shouldDocumentKeysArgvAndReturnWhenScriptHasHeader() {
        for (RedisScripts.Script s : RedisScripts.Script.values()) {
            String text = new String(s.text(), StandardCharsets.UTF_8);
            assertThat(text).as(s.resource()).contains("KEYS[1]", "ARGV[1]", "Returns 1 = applied");
            assertThat(text).as(s.resource() + " must not use tonumber").doesNotContain("tonumber(");
        }
    }

    @Test
    void shouldNotLeakInternalArrayWhenTextIsModified() {
        byte[] text = RedisScripts.upsertScript();
        text[0] = 'X';
        assertThat(RedisScripts.upsertScript()[0]).isNotEqualTo((byte) 'X');
    }
}
