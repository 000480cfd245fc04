package dev.cachepipe.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cachepipe.avro.DomainEvent;
import dev.cachepipe.schemas.IncompatibleSchemaException;
import dev.cachepipe.schemas.SchemaRegistryClient;
import dev.cachepipe.schemas.SchemaRegistryUnavailableException;
import dev.cachepipe.schemas.UnknownSchemaException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link SchemaRegistryClient} against {@link StubSchemaRegistry}, the in-process stub of Confluent's documented
 * Schema Registry REST API (no registry server can be installed here): registration, lookups by id and their cache,
 * "Schema not found" (40403), basic authentication, and waiting through an outage.
 */
class StubSchemaRegistryTest {
    private static SchemaRegistryClient.Options options(StubSchemaRegistry registry, Duration maxWait) {
        return SchemaRegistryClient.Options.of(registry.url())
                .withTimeouts(Duration.ofSeconds(1), maxWait, Duration.ofMillis(20), Duration.ofMillis(200));
    }

    @Test
    void shouldRegisterAndFetchByIdOnceWhenTheSameIdIsAskedForAgain() {
        try (StubSchemaRegistry registry = StubSchemaRegistry.start()) {
            SchemaRegistryClient client = SchemaRegistryClient.create(options(registry, Duration.ofSeconds(5)));
            int id = client.register("users.events-value", DomainEvent.getClassSchema());
            assertThat(client.register("orders.events-value", DomainEvent.getClassSchema()))
                    .as("the same schema under another subject has the same id")
                    .isEqualTo(id);

            SchemaRegistryClient reader = SchemaRegistryClient.create(options(registry, Duration.ofSeconds(5)));
            assertThat(reader.schema(id)).isEqualTo(DomainEvent.getClassSchema());
            assertThat(reader.schema(id)).isEqualTo(DomainEvent.getClassSchema());
            assertThat(registry.lookups(id)).isEqualTo(1);
            assertThat(reader.retries()).isZero();
        }
    }

    @Test
    void shouldSayUnknownWhenTheRegistryAnswersSchemaNotFoundAndIncompatibleWhenItIsNotAvro() {
        try (StubSchemaRegistry registry = StubSchemaRegistry.start()) {
            registry.put(
                    5, "{\"type\": \"record\", \"name\": \"X\", \"fields\": [{\"name\": \"a\", \"type\": \"Nope\"}]}");
            SchemaRegistryClient client = SchemaRegistryClient.create(options(registry, Duration.ofSeconds(5)));
            assertThatThrownBy(() -> client.schema(42))
                    .isInstanceOf(UnknownSchemaException.class)
                    .hasMessageContaining("42")
                    .hasMessageContaining("40403");
            assertThatThrownBy(() -> client.schema(5)).isInstanceOf(IncompatibleSchemaException.class);
            assertThat(client.retries()).as("answers, not outages").isZero();
        }
    }

    @Test
    void shouldWaitAndGiveUpWithoutShowingThePasswordWhenTheRegistryRefusesTheCredentials() {
        try (StubSchemaRegistry registry = StubSchemaRegistry.start("cachepipe", "right-password")) {
            int id = registry.register("s-value", DomainEvent.getClassSchema().toString());
            SchemaRegistryClient wrong = SchemaRegistryClient.create(
                    options(registry, Duration.ofMillis(300)).withBasicAuth("cachepipe", "wrong-password"));
            assertThatThrownBy(() -> wrong.schema(id))
                    .isInstanceOf(SchemaRegistryUnavailableException.class)
                    .hasMessageContaining("401")
                    .hasMessageContaining("credentials")
                    .hasMessageNotContaining("wrong-password");
            assertThat(wrong.retries()).isPositive();
            assertThat(wrong.options().toString()).doesNotContain("wrong-password");

            SchemaRegistryClient right = SchemaRegistryClient.create(
                    options(registry, Duration.ofSeconds(5)).withBasicAuth("cachepipe", "right-password"));
            assertThat(right.schema(id)).isEqualTo(DomainEvent.getClassSchema());
        }
    }

    @Test
    void shouldWaitForTheRegistryAndAnswerWhenItComesBackWithinTheBoundedWait() throws Exception {
        try (StubSchemaRegistry registry = StubSchemaRegistry.start()) {
            int id = registry.register("s-value", DomainEvent.getClassSchema().toString());
            SchemaRegistryClient client = SchemaRegistryClient.create(options(registry, Duration.ofSeconds(30)));
            registry.stop();
            CompletableFuture<org.apache.avro.Schema> lookup = CompletableFuture.supplyAsync(() -> client.schema(id));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (client.unavailableReason().isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(10); // polling the condition
            }
            assertThat(client.unavailableReason()).isPresent();
            assertThat(lookup).isNotDone();
            registry.restart();
            assertThat(lookup.get(10, TimeUnit.SECONDS)).isEqualTo(DomainEvent.getClassSchema());
            assertThat(client.unavailableReason()).isEmpty();
            assertThat(client.retries()).isPositive();

            registry.stop();
            SchemaRegistryClient impatient = SchemaRegistryClient.create(options(registry, Duration.ofMillis(300)));
            assertThatThrownBy(() -> impatient.schema(id))
                    .isInstanceOf(SchemaRegistryUnavailableException.class)
                    .hasMessageContaining("did not answer within 300 ms");
            assertThat(client.schema(id)).as("cached: no registry needed").isEqualTo(DomainEvent.getClassSchema());
        }
    }
}
