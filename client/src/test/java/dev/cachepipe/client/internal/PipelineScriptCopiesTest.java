package dev.cachepipe.client.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The ITs simulate the cache writer with copies of its Lua scripts (client must not depend on cache-writer); this
 * test fails when the copies drift from the originals.
 */
class PipelineScriptCopiesTest {

    @Test
    void shouldMatchTheCacheWriterScriptsWhenTheSiblingModuleIsPresent() throws Exception {
        Path originals = Path.of("..", "cache-writer", "src", "main", "resources", "lua");
        assumeTrue(Files.isDirectory(originals), "cache-writer sources not present");
        for (String name : new String[] {"upsert_entry.lua", "write_tombstone.lua", "write_fence.lua"}) {
            try (InputStream copy = getClass().getClassLoader().getResourceAsStream("pipeline-lua/" + name)) {
                assertThat(copy).as(name).isNotNull();
                assertThat(copy.readAllBytes()).as(name).isEqualTo(Files.readAllBytes(originals.resolve(name)));
            }
        }
    }
}
