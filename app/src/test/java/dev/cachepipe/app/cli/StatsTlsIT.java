package dev.cachepipe.app.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cachepipe.app.testing.ChildJvm;
import dev.cachepipe.app.testing.TestPipeline;
import dev.cachepipe.embedded.FreePorts;
import dev.cachepipe.embedded.RedisServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code cachepipe stats --tls} reads an instance whose JDK JMX agent requires TLS (registry included), the way the
 * README tells operators to secure JMX; without {@code --tls} it cannot connect and says so.
 */
class StatsTlsIT {
    private static final String STORE_PASSWORD = "stats-tls-it";

    private static RedisServer redis;

    @BeforeAll
    static void startRedis() {
        redis = RedisServer.start();
    }

    @AfterAll
    static void stopRedis() {
        redis.close();
    }

    /** A PKCS12 key store for 127.0.0.1 that also serves as the clients' trust store. */
    private static Path keyStore(TestPipeline p) throws Exception {
        Path keyStore = Path.of(System.getProperty("java.io.tmpdir")).resolve(p.id + "-jmx.p12");
        keytool(
                "-genkeypair",
                "-alias",
                "jmx",
                "-keyalg",
                "RSA",
                "-keysize",
                "2048",
                "-validity",
                "2",
                "-dname",
                "CN=127.0.0.1",
                "-ext",
                "SAN=ip:127.0.0.1",
                "-storetype",
                "PKCS12",
                "-keystore",
                keyStore.toString(),
                "-storepass",
                STORE_PASSWORD,
                "-keypass",
                STORE_PASSWORD);
        return keyStore;
    }

    private static List<String> trustStore(Path keyStore) {
        return List.of(
                "-Djavax.net.ssl.trustStore=" + keyStore,
                "-Djavax.net.ssl.trustStorePassword=" + STORE_PASSWORD,
                "-Djavax.net.ssl.trustStoreType=PKCS12");
    }

    @Test
    void shouldReadAnInstanceWhoseJmxAgentRequiresTlsWhenStatsIsGivenTls() throws Exception {
        TestPipeline p = TestPipeline.configure("statstls", redis, 1, "");
        p.createTopics();
        Path keyStore = keyStore(p);
        int port = FreePorts.next();
        Process instance = ChildJvm.start(
                p.id + "-run",
                List.of(
                        "-Dcom.sun.management.jmxremote.port=" + port,
                        "-Dcom.sun.management.jmxremote.rmi.port=" + port,
                        "-Dcom.sun.management.jmxremote.host=127.0.0.1",
                        "-Djava.rmi.server.hostname=127.0.0.1",
                        "-Dcom.sun.management.jmxremote.ssl=true",
                        "-Dcom.sun.management.jmxremote.registry.ssl=true",
                        "-Dcom.sun.management.jmxremote.authenticate=false",
                        "-Djavax.net.ssl.keyStore=" + keyStore,
                        "-Djavax.net.ssl.keyStorePassword=" + STORE_PASSWORD,
                        "-Djavax.net.ssl.keyStoreType=PKCS12"),
                List.of("run", "--config", p.configFile().toString()));
        try {
            List<String> trust = trustStore(keyStore);
            await("stats --tls reads the instance and finds it healthy")
                    .atMost(Duration.ofSeconds(120))
                    .pollInterval(Duration.ofSeconds(1))
                    .untilAsserted(() -> {
                        assertThat(instance.isAlive()).as("instance alive").isTrue();
                        Result stats = stats(p.id + "-stats-tls", trust, "--jmx", "127.0.0.1:" + port, "--tls");
                        assertThat(stats.exitCode()).as(stats.toString()).isZero();
                        assertThat(stats.output()).contains("health        UP").contains("kafka streams RUNNING");
                    });

            Result plain = stats(p.id + "-stats-plain", trust, "--jmx", "127.0.0.1:" + port);
            assertThat(plain.exitCode()).as(plain.toString()).isEqualTo(1);
            assertThat(plain.output())
                    .contains("cannot connect to JMX at 127.0.0.1:" + port)
                    .contains("a TLS-protected agent needs --tls");
        } finally {
            ChildJvm.stop(instance);
        }
    }

    @Test
    void shouldReadAnInstanceOpenOnAllInterfacesWithJmxTlsAndALoginWhenStatsIsGivenTlsAndTheLogin() throws Exception {
        TestPipeline p = TestPipeline.configure("runtls", redis, 1, "");
        p.createTopics();
        Path keyStore = keyStore(p);
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        Path passwords = Files.writeString(tmp.resolve(p.id + "-jmx.password"), "monitor m0n1tor\n");
        Files.setPosixFilePermissions(passwords, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        Path access = Files.writeString(tmp.resolve(p.id + "-jmx.access"), "monitor readonly\n");
        Path password = Files.writeString(tmp.resolve(p.id + "-monitor.pw"), "m0n1tor\n");
        int port = FreePorts.next();
        Process instance = ChildJvm.start(
                p.id + "-run",
                List.of(
                        "-Djava.rmi.server.hostname=127.0.0.1",
                        "-Djavax.net.ssl.keyStore=" + keyStore,
                        "-Djavax.net.ssl.keyStorePassword=" + STORE_PASSWORD,
                        "-Djavax.net.ssl.keyStoreType=PKCS12"),
                List.of(
                        "run",
                        "--config",
                        p.configFile().toString(),
                        "--jmx-port",
                        Integer.toString(port),
                        "--jmx-host",
                        "0.0.0.0",
                        "--jmx-tls",
                        "--jmx-password-file",
                        passwords.toString(),
                        "--jmx-access-file",
                        access.toString()));
        try {
            List<String> trust = trustStore(keyStore);
            await("stats --tls with the login reads the instance and finds it healthy")
                    .atMost(Duration.ofSeconds(120))
                    .pollInterval(Duration.ofSeconds(1))
                    .untilAsserted(() -> {
                        assertThat(instance.isAlive()).as("instance alive").isTrue();
                        Result stats = stats(
                                p.id + "-stats-tls",
                                trust,
                                "--jmx",
                                "127.0.0.1:" + port,
                                "--tls",
                                "--user",
                                "monitor",
                                "--password-file",
                                password.toString());
                        assertThat(stats.exitCode()).as(stats.toString()).isZero();
                        assertThat(stats.output()).contains("health        UP");
                    });

            Result plain = stats(p.id + "-stats-plain", trust, "--jmx", "127.0.0.1:" + port);
            assertThat(plain.exitCode()).as(plain.toString()).isEqualTo(1);
            assertThat(plain.output()).contains("a TLS-protected agent needs --tls");
        } finally {
            ChildJvm.stop(instance);
        }
    }

    private record Result(int exitCode, String output) {
        @Override
        public String toString() {
            return "exit " + exitCode + ":\n" + output;
        }
    }

    /** {@code cachepipe stats ...} in a child JVM (the trust store is a JVM-wide setting). */
    private static Result stats(String name, List<String> jvmOptions, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("stats"));
        command.addAll(List.of(args));
        Process p = ChildJvm.start(name, jvmOptions, command);
        try {
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("stats ends").isTrue();
            return new Result(p.exitValue(), Files.readString(ChildJvm.log(name), StandardCharsets.UTF_8));
        } finally {
            p.destroyForcibly();
        }
    }

    private static void keytool(String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("keytool ends").isTrue();
        assertThat(p.exitValue()).as("keytool: " + out).isZero();
    }
}
