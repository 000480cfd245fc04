package dev.cachepipe.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cachepipe.support.kafka.PartitionLeaders;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

class EmbeddedKafkaIT {

    @Test
    void shouldReturnOnceNewPartitionsLeadAndTimeOutNamingTopicsThatNeverAppear() throws Exception {
        EmbeddedKafka kafka = EmbeddedKafka.shared();
        try (Admin admin = kafka.admin()) {
            admin.createTopics(List.of(new NewTopic("leaders-it", 4, (short) 1)))
                    .all()
                    .get();
            PartitionLeaders.await(admin, Map.of("leaders-it", 4), Duration.ofSeconds(60));
            assertThat(admin.listOffsets(Map.of(new TopicPartition("leaders-it", 3), OffsetSpec.latest()))
                            .all()
                            .get(5, TimeUnit.SECONDS))
                    .hasSize(1);

            assertThatThrownBy(() -> PartitionLeaders.await(admin, Map.of("never-created", 1), Duration.ofSeconds(2)))
                    .isInstanceOf(TimeoutException.class)
                    .hasMessage("partitions of [never-created] had no leader within PT2S");
        }
    }

    @Test
    void shouldDeliverRecordsWhenTopicCreated() throws Exception {
        EmbeddedKafka kafka = EmbeddedKafka.shared();
        kafka.createTopic("embedded-it", 2, Map.of("cleanup.policy", "compact"));
        try (var producer = new KafkaProducer<>(
                Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                new StringSerializer(),
                new StringSerializer())) {
            producer.send(new ProducerRecord<>("embedded-it", 0, "k", "v")).get();
        }
        try (var consumer = new KafkaConsumer<>(
                Map.<String, Object>of(
                        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        kafka.bootstrapServers(),
                        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                        "earliest"),
                new StringDeserializer(),
                new StringDeserializer())) {
            consumer.assign(List.of(new TopicPartition("embedded-it", 0)));
            consumer.seekToBeginning(consumer.assignment());
            ConsumerRecords<String, String> records = ConsumerRecords.empty();
            long deadline = System.currentTimeMillis() + 60_000;
            while (records.isEmpty() && System.currentTimeMillis() < deadline) {
                records = consumer.poll(Duration.ofMillis(200));
            }
            assertThat(records).as("records read back within 60 s").isNotEmpty();
            assertThat(records.iterator().next().value()).isEqualTo("v");
        }
    }
}
