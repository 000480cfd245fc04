package dev.cachepipe.writer.internal.apply;

import dev.cachepipe.writer.WriterConfig;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * The one builder of the writer's Kafka client configurations. Each client gets the settings of
 * {@link WriterConfig#kafkaProperties()} that it knows, plus those no Kafka client knows (plug-in settings such as
 * interceptors' own keys); the settings the writer's guarantees rest on are set last, so they cannot be overridden.
 */
public final class KafkaClients {
    /** Keys known to at least one of the consumer, the producer and the admin client. */
    private static final Set<String> KNOWN = known();

    private KafkaClients() {}

    /** The live writer's consumer: its group, no auto commit, read_committed; batches of {@code maxBatchSize}. */
    public static Map<String, Object> liveConsumer(WriterConfig config) {
        Map<String, Object> m = new HashMap<>();
        m.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        m.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, config.maxBatchSize());
        // At a trickle of mutations a fetch that returns at the first record costs a round trip per record (and the
        // broker's CPU): wait up to 5 ms for 64 KB instead (a drain fills that at once)
        m.put(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, 65_536);
        m.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 5);
        m.putAll(own(config, ConsumerConfig.configNames()));
        m.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        m.put(ConsumerConfig.GROUP_ID_CONFIG, config.groupId());
        m.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        m.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        return m;
    }

    /** A rebuild's consumer: assigned partitions, no group (a static member id would collide), read_committed. */
    public static Map<String, Object> replayConsumer(WriterConfig config) {
        Map<String, Object> m = new HashMap<>(own(config, ConsumerConfig.configNames()));
        m.remove(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
        m.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        m.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        m.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        m.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        m.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Math.max(config.maxBatchSize(), 500));
        m.put(
                ConsumerConfig.CLIENT_ID_CONFIG,
                "cachepipe-rebuild-" + UUID.randomUUID().toString().substring(0, 8));
        return m;
    }

    /**
     * The invalidations producer: acks=all and idempotent; bounded blocking and timeouts, so that an outage turns into
     * a retry (and an unhealthy report) within seconds.
     */
    public static Map<String, Object> producer(WriterConfig config) {
        Map<String, Object> m = new HashMap<>();
        // 1 ms: a batch's invalidations are handed over in a tight loop; the writer no longer flushes at once (it
        // reads and writes its next batch meanwhile), so this is what L1 waits for
        m.put(ProducerConfig.LINGER_MS_CONFIG, 1);
        m.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
        m.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        m.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 20_000);
        m.putAll(own(config, ProducerConfig.configNames()));
        m.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        m.put(ProducerConfig.ACKS_CONFIG, "all");
        m.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        return m;
    }

    /** The admin client a rebuild reads the group's committed offsets with. */
    public static Map<String, Object> admin(WriterConfig config) {
        Map<String, Object> m = new HashMap<>(own(config, AdminClientConfig.configNames()));
        m.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        return m;
    }

    /** The configured keys this client knows, and the keys no client knows. */
    private static Map<String, Object> own(WriterConfig config, Set<String> clientKeys) {
        Map<String, Object> m = new HashMap<>();
        config.kafkaProperties().forEach((k, v) -> {
            if (clientKeys.contains(k) || !KNOWN.contains(k)) {
                m.put(k, v);
            }
        });
        return m;
    }

    private static Set<String> known() {
        Set<String> all = new HashSet<>(ConsumerConfig.configNames());
        all.addAll(ProducerConfig.configNames());
        all.addAll(AdminClientConfig.configNames());
        return Set.copyOf(all);
    }
}
