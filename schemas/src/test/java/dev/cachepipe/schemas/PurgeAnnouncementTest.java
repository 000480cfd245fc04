package dev.cachepipe.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cachepipe.avro.CacheInvalidation;
import java.io.InputStream;
import java.time.Instant;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageDecoder;
import org.junit.jupiter.api.Test;

/**
 * Issue 11, acceptance 3: a client of the previous release reads a purge announcement without error and changes
 * nothing. {@code previous-release/CacheInvalidation.avsc} is the schema as released before purges existed (commit
 * 77dc4e7, unchanged since); the reader below is Avro's own single-object decoder for it, which refuses any record
 * whose writer schema has another fingerprint, and the check is the one that release's listener makes before touching
 * L1 ({@code RedisLayout.parse(prefix, key)} must name the record's entity type and id).
 */
class PurgeAnnouncementTest {
    private static final Instant STARTED = Instant.parse("2026-12-04T03:00:00Z");
    private static final Instant FINISHED = Instant.parse("2026-12-04T03:00:02Z");

    @Test
    void shouldBeDecodedByThePreviousReleasesSchemaAndNameNoEntryItsListenerWouldTouch() throws Exception {
        Schema previous;
        try (InputStream in = getClass().getResourceAsStream("/previous-release/CacheInvalidation.avsc")) {
            previous = new Schema.Parser().parse(in);
        }
        for (String idPrefix : new String[] {"", "a", "42"}) {
            byte[] bytes = AvroSerde.of(CacheInvalidation.class)
                    .encode(PurgeAnnouncement.of("cache", "product", idPrefix, STARTED, FINISHED));

            GenericRecord old = new BinaryMessageDecoder<GenericRecord>(GenericData.get(), previous).decode(bytes);

            assertThat(old.get("entityType")).hasToString("product");
            assertThat(old.get("entityId")).hasToString(idPrefix);
            String key = old.get("key").toString();
            assertThat(RedisLayout.parse("cache", key))
                    .as("the previous listener skips %s: it names no entry of product/%s", key, idPrefix)
                    .isNotEqualTo(java.util.Optional.of(new RedisLayout.EntryKey("product", idPrefix)));
            assertThat(RedisLayout.parse("cache", key)).as("no entry at all").isEmpty();
        }
    }

    @Test
    void shouldBeRecognisedUnderItsOwnKeyPrefixOnly() {
        CacheInvalidation inv = PurgeAnnouncement.of("cache", "product", "a", STARTED, FINISHED);

        assertThat(PurgeAnnouncement.isUnder("cache", inv)).isTrue();
        assertThat(PurgeAnnouncement.isUnder("other", inv)).isFalse();
        assertThat(inv.getKey()).isEqualTo("cache:@purge:product:a");
        assertThat(inv.getOccurredAt()).isEqualTo(STARTED);
        assertThat(inv.getWrittenAt()).isEqualTo(FINISHED);
    }
}
