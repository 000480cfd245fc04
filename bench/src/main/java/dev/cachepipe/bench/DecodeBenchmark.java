package dev.cachepipe.bench;

import dev.cachepipe.avro.DomainEvent;
import dev.cachepipe.avro.Operation;
import dev.cachepipe.schemas.AvroSerde;
import dev.cachepipe.schemas.ConfluentAvroSerde;
import dev.cachepipe.schemas.SchemaSource;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.avro.Schema;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Decoding one DomainEvent (a 150-byte JSON payload, two attributes) in Avro single-object encoding ({@link
 * AvroSerde}) and in the Confluent wire format ({@link ConfluentAvroSerde}, writer schema by id from a warm cache),
 * as the topology does for every record. Issue 12's target: Confluent within 10 % of single-object.
 *
 * <pre>
 * ./mvnw -B -q -pl bench -am package -DskipTests
 * java -jar bench/target/cachepipe-bench.jar DecodeBenchmark -f 1 -wi 3 -i 5 -w 2s -r 3s
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class DecodeBenchmark {
    private AvroSerde<DomainEvent> singleObject;
    private ConfluentAvroSerde<DomainEvent> confluent;
    private byte[] singleObjectBytes;
    private byte[] confluentBytes;

    @Setup
    public void setUp() {
        DomainEvent event = DomainEvent.newBuilder()
                .setEventId("6f1c2a9e-3b7d-4e0a-9c51-2d8f0b7a4e13")
                .setEntityType("user")
                .setEntityId("user-1234567")
                .setVersion(42)
                .setOp(Operation.UPSERT)
                .setOccurredAt(Instant.ofEpochMilli(1_700_000_000_000L))
                .setContentType("application/json")
                .setPayload(ByteBuffer.wrap(("{\"type\":\"user\",\"id\":\"user-1234567\",\"version\":42,\"name\":"
                                + "\"Ada Lovelace\",\"score\":31415,\"active\":true,\"tags\":[\"t1\",\"t22\",\"t333\"],"
                                + "\"email\":\"ada@analytical.engine\"}")
                        .getBytes(StandardCharsets.UTF_8)))
                .setAttributes(Map.of("source", "bench", "tenant", "acme"))
                .build();
        singleObject = AvroSerde.of(DomainEvent.class);
        singleObjectBytes = singleObject.encode(event);
        confluentBytes = ConfluentAvroSerde.writing(DomainEvent.class, 17).encode(event);
        Schema schema = DomainEvent.getClassSchema();
        confluent = ConfluentAvroSerde.reading(DomainEvent.class, new SchemaSource() {
            @Override
            public Schema schema(int id) {
                return schema;
            }

            @Override
            public String describe() {
                return "bench";
            }
        });
        if (!singleObject.decode(singleObjectBytes).equals(confluent.decode(confluentBytes))) {
            throw new IllegalStateException("the two formats decode differently");
        }
    }

    @Benchmark
    public DomainEvent singleObject() {
        return singleObject.decode(singleObjectBytes);
    }

    @Benchmark
    public DomainEvent confluent() {
        return confluent.decode(confluentBytes);
    }
}
