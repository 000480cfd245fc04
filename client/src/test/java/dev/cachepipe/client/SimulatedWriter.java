package dev.cachepipe.client;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cachepipe.avro.CacheInvalidation;
import dev.cachepipe.avro.InvalidationOp;
import dev.cachepipe.schemas.AvroSerde;
import dev.cachepipe.schemas.RedisLayout;
import dev.cachepipe.support.redis.EntryScripts;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Does what the pipeline's cache writer does, for client tests that must not depend on it: applies the pipeline's own
 * version-gated Lua scripts (support's {@link EntryScripts}) and then, if the write
 * changed Redis, publishes the {@link CacheInvalidation} — inline payload or not.
 */
final class SimulatedWriter implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final byte[] UPSERT = EntryScripts.UPSERT_ENTRY.text();
    private static final byte[] TOMBSTONE = EntryScripts.WRITE_TOMBSTONE.text();
    private static final byte[] FENCE = EntryScripts.WRITE_FENCE.text();

    private final AbstractRedisClient client;
    private final StatefulConnection<byte[], byte[]> connection;
    private final RedisClusterCommands<byte[], byte[]> redis;
    private final KafkaProducer<String, byte[]> producer;
    private final AvroSerde<CacheInvalidation> serde = AvroSerde.of(CacheInvalidation.class);
    private final String topic;
    private final String prefix;

    SimulatedWriter(String redisUri, String bootstrapServers, String topic, String prefix) {
        this(redisUri, false, bootstrapServers, topic, prefix);
    }

    /** A writer to the Redis Cluster of {@code seeds} (comma-separated URIs). */
    static SimulatedWriter onCluster(String seeds, String bootstrapServers, String topic, String prefix) {
        return new SimulatedWriter(seeds, true, bootstrapServers, topic, prefix);
    }

    private SimulatedWriter(String redisUri, boolean cluster, String bootstrapServers, String topic, String prefix) {
        if (cluster) {
            RedisClusterClient c = RedisClusterClient.create(java.util.Arrays.stream(redisUri.split(","))
                    .map(RedisURI::create)
                    .toList());
            StatefulRedisClusterConnection<byte[], byte[]> conn = c.connect(ByteArrayCodec.INSTANCE);
            this.client = c;
            this.connection = conn;
            this.redis = conn.sync();
        } else {
            RedisClient c = RedisClient.create(redisUri);
            StatefulRedisConnection<byte[], byte[]> conn = c.connect(ByteArrayCodec.INSTANCE);
            this.client = c;
            this.connection = conn;
            this.redis = conn.sync();
        }
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        this.producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        this.topic = topic;
        this.prefix = prefix;
    }

    static byte[] json(Item item) {
        try {
            return JSON.writeValueAsBytes(item);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String key(String type, String id) {
        return RedisLayout.key(prefix, type, id);
    }

    /** Upserts {@code item} (JSON) at its version; publishes the invalidation (payload inline or not) if applied. */
    long upsert(String type, Item item, boolean inline) {
        byte[] payload = json(item);
        long r = writeUpsert(type, item.id(), item.version(), payload, "application/json");
        if (r == 1) {
            publish(invalidation(type, item.id(), item.version(), InvalidationOp.UPSERT, inline ? payload : null));
        }
        return r;
    }

    /** Only the Redis half of an upsert (no invalidation). */
    long writeUpsert(String type, String id, long version, byte[] payload, String contentType) {
        Long r = redis.eval(
                UPSERT,
                ScriptOutputType.INTEGER,
                new byte[][] {bytes(key(type, id))},
                bytes(Long.toString(version)),
                payload,
                bytes(contentType),
                bytes(Long.toString(System.currentTimeMillis())),
                bytes("600000"));
        return r;
    }

    long delete(String type, String id, long version) {
        long r = gated(TOMBSTONE, type, id, version);
        if (r == 1) {
            publish(invalidation(type, id, version, InvalidationOp.DELETE, null));
        }
        return r;
    }

    long fence(String type, String id, long version) {
        long r = gated(FENCE, type, id, version);
        if (r == 1) {
            publish(invalidation(type, id, version, InvalidationOp.INVALIDATE, null));
        }
        return r;
    }

    long writeFence(String type, String id, long version) {
        return gated(FENCE, type, id, version);
    }

    long writeTombstone(String type, String id, long version) {
        return gated(TOMBSTONE, type, id, version);
    }

    private long gated(byte[] script, String type, String id, long version) {
        Long r = redis.eval(
                script,
                ScriptOutputType.INTEGER,
                new byte[][] {bytes(key(type, id))},
                bytes(Long.toString(version)),
                bytes(Long.toString(System.currentTimeMillis())),
                bytes("600000"));
        return r;
    }

    CacheInvalidation invalidation(String type, String id, long version, InvalidationOp op, byte[] payload) {
        return CacheInvalidation.newBuilder()
                .setKey(key(type, id))
                .setEntityType(type)
                .setEntityId(id)
                .setVersion(version)
                .setOp(op)
                .setOccurredAt(Instant.now())
                .setWrittenAt(Instant.now())
                .setContentType(payload == null ? null : "application/json")
                .setPayload(payload == null ? null : ByteBuffer.wrap(payload))
                .build();
    }

    /** Publishes and waits for the broker's acknowledgement. */
    void publish(CacheInvalidation inv) {
        try {
            producer.send(new ProducerRecord<>(topic, inv.getKey(), serde.encode(inv)))
                    .get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    /**
     * Publishes a purge announcement of {@code type} ids starting with {@code idPrefix} as {@code cachepipe purge}
     * does, and waits; {@code withHeader} false: the record as a client of the previous release sees it (it knows no
     * header).
     */
    void publishPurge(String type, String idPrefix, boolean withHeader) {
        CacheInvalidation inv =
                dev.cachepipe.schemas.PurgeAnnouncement.of(prefix, type, idPrefix, Instant.now(), Instant.now());
        ProducerRecord<String, byte[]> r = new ProducerRecord<>(topic, inv.getKey(), serde.encode(inv));
        if (withHeader) {
            r.headers().add(RedisLayout.PURGE_HEADER, new byte[] {'1'});
        }
        try {
            producer.send(r).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    /** Publishes without waiting (the monotonic test's writer flushes itself). */
    void publishAsync(CacheInvalidation inv) {
        producer.send(new ProducerRecord<>(topic, inv.getKey(), serde.encode(inv)));
    }

    void flush() {
        producer.flush();
    }

    /** The stored version of an entry, or -1 if absent. */
    long storedVersion(String type, String id) {
        byte[] v = redis.hget(bytes(key(type, id)), bytes(RedisLayout.VERSION));
        return v == null ? -1 : Long.parseLong(new String(v, StandardCharsets.US_ASCII));
    }

    /** The entry's fields as strings. */
    Map<String, String> hash(String type, String id) {
        Map<String, String> out = new HashMap<>();
        redis.hgetall(bytes(key(type, id)))
                .forEach((k, v) ->
                        out.put(new String(k, StandardCharsets.UTF_8), new String(v, StandardCharsets.UTF_8)));
        return out;
    }

    RedisClusterCommands<byte[], byte[]> redis() {
        return redis;
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        producer.close();
        connection.close();
        client.shutdown();
    }
}
