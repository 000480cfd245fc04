package dev.cachepipe.support.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class LuaScriptTest {

    @Test
    void shouldHashTheExactBytesSentWhenRead() throws Exception {
        for (LuaScript s : EntryScripts.all()) {
            String expected =
                    HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(s.text()));
            assertThat(s.sha1()).as(s.resource()).isEqualTo(expected).hasSize(40);
        }
    }

    @Test
    void shouldNameTheScriptByItsFileWhenAsked() {
        assertThat(EntryScripts.UPSERT_ENTRY.name()).isEqualTo("upsert_entry");
        assertThat(EntryScripts.FILL_ENTRY.resource()).isEqualTo("lua/fill_entry.lua");
    }

    @Test
    void shouldNotLeakItsBytesWhenTextIsModified() {
        byte[] text = EntryScripts.UPSERT_ENTRY.text();
        text[0] = 'X';
        assertThat(EntryScripts.UPSERT_ENTRY.text()[0]).isNotEqualTo((byte) 'X');
    }

    @Test
    void shouldNameTheResourceWhenItIsMissing() {
        assertThatThrownBy(() -> LuaScript.of(LuaScriptTest.class, "lua/nope.lua"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("lua/nope.lua");
    }
}
