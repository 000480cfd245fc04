package dev.cachepipe.support.redis;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The entry scripts share one version rule; EVALSHA scripts cannot share code, so this keeps the copies equal. */
class EntryScriptsTest {
    /** A top-level {@code local function name(...)} up to its closing {@code end} at column 0. */
    private static final Pattern FUNCTION = Pattern.compile("(?ms)^local function (\\w+)\\(.*?^end$");

    @Test
    void shouldWriteTheVersionRuleAsTheSameTextWhenScriptsCompareVersions() {
        String canonical = function(EntryScripts.UPSERT_ENTRY, "canonical");
        String compare = function(EntryScripts.UPSERT_ENTRY, "compare");
        for (LuaScript s : EntryScripts.all()) {
            assertThat(function(s, "canonical")).as(s + " canonical()").isEqualTo(canonical);
            if (text(s).contains("local function compare(")) {
                assertThat(function(s, "compare")).as(s + " compare()").isEqualTo(compare);
            }
        }
    }

    @Test
    void shouldNeverUseTonumberWhenHandlingVersions() {
        for (LuaScript s : EntryScripts.all()) {
            assertThat(text(s).lines().filter(l -> !l.startsWith("--")))
                    .as(s + " must compare versions as decimal strings")
                    .noneMatch(l -> l.contains("tonumber"));
        }
    }

    @Test
    void shouldDocumentKeysArgumentsAndRepliesWhenScriptHasHeader() {
        for (LuaScript s : EntryScripts.all()) {
            assertThat(text(s)).as(s.resource()).contains("-- KEYS[1]", "-- ARGV[1]", "-- Returns ");
        }
    }

    private static String function(LuaScript script, String name) {
        Matcher m = FUNCTION.matcher(text(script));
        while (m.find()) {
            if (m.group(1).equals(name)) {
                return m.group();
            }
        }
        throw new AssertionError(script + " has no function " + name);
    }

    private static String text(LuaScript s) {
        return new String(s.text(), StandardCharsets.UTF_8);
    }
}
