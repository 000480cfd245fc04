package dev.cachepipe.app.cli;

import dev.cachepipe.app.config.CachepipeConfig;
import dev.cachepipe.app.runtime.Infrastructure;
import dev.cachepipe.schemas.SchemaRegistryClient;
import dev.cachepipe.schemas.WireFormat;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code cachepipe publish --file events.jsonl}: domain events from JSON lines, for trying cachepipe out and scripts. */
@Command(
        name = "publish",
        mixinStandardHelpOptions = true,
        description = {
            "Publish domain events written as JSON lines, one object per line, e.g.",
            "  {\"entityType\":\"user\",\"entityId\":\"42\",\"version\":7,\"op\":\"UPSERT\",\"payload\":{\"name\":\"Ada\"}}",
            "Fields: entityType, entityId, version, op (UPSERT|DELETE), payload (any JSON; sent as UTF-8 JSON with"
                    + " contentType application/json), optional eventId, occurredAt (epoch ms or ISO-8601),"
                    + " attributes (object of strings), topic. Blank lines and # comments are skipped.",
            "Bad lines are reported with their line number and skipped; the good ones are published.",
            "--format confluent writes the Confluent wire format (00, schema id, Avro body) as KafkaAvroSerializer does,"
                    + " registering the DomainEvent schema under <topic>-value in the registry of --registry (default:"
                    + " schemas.registry.url of the configuration).",
            "Exit code 0 when every event was published, 1 when a line was bad or not acknowledged by Kafka."
        })
public final class PublishCommand implements Callable<Integer> {
    @Option(
            names = {"-f", "--file"},
            required = true,
            paramLabel = "FILE",
            description = "JSON lines file; '-' reads standard input")
    String file;

    @Option(
            names = "--format",
            defaultValue = "single-object",
            paramLabel = "FORMAT",
            description = "single-object (Avro single-object encoding) or confluent (Confluent wire format, schema"
                    + " registered under <topic>-value) (default: ${DEFAULT-VALUE})")
    String format;

    @Option(
            names = "--registry",
            paramLabel = "URL",
            description = "Schema Registry URL for --format confluent (default: schemas.registry.url of the"
                    + " configuration, with its username, password and TLS settings)")
    String registryUrl;

    @Mixin
    ConfigOption config;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException, InterruptedException {
        CachepipeConfig cfg = config.load();
        EventEncoder encoder = encoder(cfg);
        Infrastructure infra = Infrastructure.external(cfg, "publish", true, false);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String name = file.equals("-") ? "<stdin>" : file;
        EventLines parser = new EventLines(cfg);
        List<Integer> bad = new ArrayList<>();
        Map<Integer, String> notAcked = new ConcurrentSkipListMap<>();
        Map<String, Integer> perTopic = new ConcurrentHashMap<>();
        int lines = 0;
        int sent = 0;
        Map<String, Object> props = infra.kafkaClientProperties();
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000);
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 60_000);
        props.put(ProducerConfig.CLIENT_ID_CONFIG, "cachepipe-publish");
        try (BufferedReader reader = open();
                KafkaProducer<byte[], byte[]> producer =
                        new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            String line;
            while ((line = reader.readLine()) != null) {
                lines++;
                if (EventLines.isSkippable(line)) {
                    continue;
                }
                int lineNo = lines;
                EventLines.Event e;
                try {
                    e = parser.parse(line);
                } catch (EventLines.BadLine b) {
                    bad.add(lineNo);
                    err.println(name + ":" + lineNo + ": skipped: " + b.getMessage());
                    continue;
                }
                try {
                    producer.send(
                            new ProducerRecord<>(
                                    e.topic(),
                                    e.event().getEntityId().getBytes(StandardCharsets.UTF_8),
                                    encoder.encode(e.topic(), e.event())),
                            (md, ex) -> {
                                if (ex != null) {
                                    notAcked.put(lineNo, ex.toString());
                                } else {
                                    perTopic.merge(e.topic(), 1, Integer::sum);
                                }
                            });
                    sent++;
                } catch (KafkaException | IllegalStateException ex) {
                    // a refused send, or (--format confluent) a registry that refused or did not answer
                    notAcked.put(lineNo, ex.toString());
                }
            }
            producer.flush();
        } catch (NoSuchFileException ex) {
            throw new IllegalStateException("--file " + file + " does not exist");
        }
        notAcked.forEach((lineNo, why) -> err.println(name + ":" + lineNo + ": not published: " + why));
        int published = perTopic.values().stream().mapToInt(Integer::intValue).sum();
        String topics = new TreeMap<>(perTopic)
                .entrySet().stream()
                        .map(en -> en.getKey() + " " + en.getValue())
                        .collect(Collectors.joining(", "));
        out.printf(
                Locale.ROOT,
                "Published %d event%s from %s%s",
                published,
                published == 1 ? "" : "s",
                name,
                topics.isEmpty() ? "" : " (" + topics + ")");
        if (!bad.isEmpty()) {
            out.printf(
                    Locale.ROOT,
                    "; skipped %d bad line%s: %s",
                    bad.size(),
                    bad.size() == 1 ? "" : "s",
                    bad.stream().map(String::valueOf).collect(Collectors.joining(", ")));
        }
        if (!notAcked.isEmpty()) {
            out.printf(Locale.ROOT, "; %d not acknowledged by Kafka (lines %s)", notAcked.size(), notAcked.keySet());
        }
        out.println();
        out.flush();
        err.flush();
        return bad.isEmpty() && notAcked.isEmpty() && published == sent ? 0 : 1;
    }

    /** Single-object, or the Confluent wire format against --registry or the configured registry. */
    private EventEncoder encoder(CachepipeConfig cfg) {
        WireFormat wire;
        try {
            wire = WireFormat.parse(format);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(
                    spec.commandLine(), "--format must be single-object or confluent but was '" + format + "'");
        }
        if (wire == WireFormat.AUTO) {
            throw new ParameterException(spec.commandLine(), "--format must be single-object or confluent, not auto");
        }
        if (wire == WireFormat.SINGLE_OBJECT) {
            if (registryUrl != null) {
                throw new ParameterException(spec.commandLine(), "--registry is for --format confluent");
            }
            return EventEncoder.singleObject();
        }
        SchemaRegistryClient.Options configured = cfg.decoding().registry();
        SchemaRegistryClient.Options options;
        try {
            if (registryUrl == null) {
                if (configured == null) {
                    throw new ParameterException(
                            spec.commandLine(),
                            "--format confluent needs --registry URL or schemas.registry.url in the configuration");
                }
                options = configured;
            } else if (configured != null) {
                options = new SchemaRegistryClient.Options(
                        URI.create(registryUrl),
                        configured.username(),
                        configured.password(),
                        configured.caFile(),
                        configured.certFile(),
                        configured.keyFile(),
                        configured.requestTimeout(),
                        configured.maxWait(),
                        configured.retryBackoffMin(),
                        configured.retryBackoffMax());
            } else {
                options = SchemaRegistryClient.Options.of(registryUrl);
            }
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--registry: " + e.getMessage());
        }
        return EventEncoder.confluent(SchemaRegistryClient.create(options));
    }

    private BufferedReader open() throws IOException {
        if (file.equals("-")) {
            return new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        }
        return Files.newBufferedReader(Path.of(file), StandardCharsets.UTF_8);
    }
}
