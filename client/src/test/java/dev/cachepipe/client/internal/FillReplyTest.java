package dev.cachepipe.client.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How the client reads fill_entry.lua's reply (1, 0, or the entry it found) as Lettuce's OBJECT output gives it. */
class FillReplyTest {
    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void shouldReadStoredAndDroppedWhenTheReplyIsAnInteger() {
        assertThat(RedisL2.fillReply(1L).stored()).isTrue();
        assertThat(RedisL2.fillReply(List.of(1L)).stored()).isTrue();
        assertThat(RedisL2.fillReply(0L)).isEqualTo(new RedisL2.FillReply(false, null));
        assertThat(RedisL2.fillReply(List.of(0L))).isEqualTo(new RedisL2.FillReply(false, null));
    }

    @Test
    void shouldReadTheFoundEntryInFieldOrderWhenTheReplyIsAnArray() {
        RedisL2.FillReply reply = RedisL2.fillReply(Arrays.asList(b("6"), null, null, null, b("1")));

        assertThat(reply.stored()).isFalse();
        assertThat(reply.found()).containsOnlyKeys("v", "inv");
        assertThat(reply.found().get("v")).isEqualTo(b("6"));
        assertThat(RedisL2.fillReply(List.of(Arrays.asList(b("6"), b("x"), null, null, null)))
                        .found())
                .containsOnlyKeys("v", "d");
    }

    @Test
    void shouldRefuseAReplyItDoesNotKnow() {
        assertThatThrownBy(() -> RedisL2.fillReply("OK")).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void shouldAskForTheFieldsThatTheReaderReadsWhenTheScriptRepliesWithTheEntry() {
        String script = new String(ClientScript.FILL_ENTRY.script().text(), StandardCharsets.UTF_8);

        assertThat(script).contains("'HMGET', key, '" + String.join("', '", RedisL2.FIELD_NAMES) + "'");
    }
}
