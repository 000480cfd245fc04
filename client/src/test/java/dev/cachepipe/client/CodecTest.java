package dev.cachepipe.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cachepipe.avro.CacheInvalidation;
import dev.cachepipe.avro.InvalidationOp;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class CodecTest {

    @Test
    void shouldRoundTripRecordsAsJson() {
        Codec<Item> codec = Codec.json(Item.class);
        Item item = new Item("42", 7, "hello");

        byte[] bytes = codec.encode(item);

        assertThat(new String(bytes, StandardCharsets.UTF_8))
                .isEqualTo("{\"id\":\"42\",\"version\":7,\"body\":\"hello\"}");
        assertThat(codec.decode(bytes)).isEqualTo(item);
        assertThat(codec.contentType()).isEqualTo("application/json");
    }

    @Test
    void shouldIgnoreUnknownJsonFieldsThatNewerProducersAdd() {
        Item item = Codec.json(Item.class)
                .decode("{\"id\":\"1\",\"version\":2,\"body\":\"b\",\"added\":true}".getBytes(StandardCharsets.UTF_8));

        assertThat(item).isEqualTo(new Item("1", 2, "b"));
    }

    @Test
    void shouldFailOnBytesThatAreNotJson() {
        assertThatThrownBy(() -> Codec.json(Item.class).decode("not json".getBytes(StandardCharsets.UTF_8)))
                .hasMessageContaining("cannot decode JSON as Item");
    }

    @Test
    void shouldRoundTripAvroSingleObjectEncoding() {
        Codec<CacheInvalidation> codec = Codec.avro(CacheInvalidation.class);
        CacheInvalidation record = CacheInvalidation.newBuilder()
                .setKey("cache:user:1")
                .setEntityType("user")
                .setEntityId("1")
                .setVersion(3)
                .setOp(InvalidationOp.UPSERT)
                .setOccurredAt(Instant.ofEpochMilli(1000))
                .setWrittenAt(Instant.ofEpochMilli(2000))
                .build();

        byte[] bytes = codec.encode(record);

        assertThat(bytes[0]).isEqualTo((byte) 0xC3);
        assertThat(bytes[1]).isEqualTo((byte) 0x01);
        assertThat(codec.decode(bytes)).isEqualTo(record);
        assertThat(codec.contentType()).isEqualTo("application/avro");
    }

    @Test
    void shouldAcceptOwnContentTypeWithParametersAndMissingOne() {
        Codec<Item> json = Codec.json(Item.class);

        assertThat(json.accepts("application/json")).isTrue();
        assertThat(json.accepts("Application/JSON; charset=utf-8")).isTrue();
        assertThat(json.accepts(null)).isTrue();
        assertThat(json.accepts("application/avro")).isFalse();
        assertThat(json.accepts("application/jsonx")).isFalse();
        assertThat(Codec.avro(CacheInvalidation.class).accepts("application/json"))
                .isFalse();
        assertThat(Codec.bytes().accepts("image/png")).isTrue();
    }

    @Test
    void shouldPassBytesThrough() {
        byte[] raw = {1, 2, 3};

        assertThat(Codec.bytes().decode(raw)).isSameAs(raw);
        assertThat(Codec.bytes().encode(raw)).isSameAs(raw);
    }

    @Test
    void shouldBeEqualWhenSameTypeAndMapper() {
        ObjectMapper mapper = new ObjectMapper();

        assertThat(Codec.json(Item.class)).isEqualTo(Codec.json(Item.class));
        assertThat(Codec.json(Item.class, mapper)).isEqualTo(Codec.json(Item.class, mapper));
        assertThat(Codec.json(Item.class, mapper)).isNotEqualTo(Codec.json(Item.class));
        assertThat(Codec.avro(CacheInvalidation.class)).isEqualTo(Codec.avro(CacheInvalidation.class));
        assertThat(Codec.bytes()).isSameAs(Codec.bytes());
    }
}
