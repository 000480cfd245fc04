package dev.cachepipe.embedded;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A test certificate authority and the certificates it signed, made with {@code openssl} into a new directory: a
 * server certificate for {@code 127.0.0.1} / {@code localhost} and a client certificate, each with an unencrypted
 * PKCS#8 key, all PEM. For TLS tests only: the keys are written in the clear.
 *
 * @param dir where the files are
 * @param caCert the CA certificate (what clients and servers trust)
 * @param serverCert the server's certificate, signed by the CA
 * @param serverKey its key
 * @param clientCert a client certificate, signed by the CA
 * @param clientKey its key
 */
public record TlsFiles(Path dir, Path caCert, Path serverCert, Path serverKey, Path clientCert, Path clientKey) {

    /** Makes a CA, a server and a client certificate in a new temporary directory. */
    public static TlsFiles create() {
        Path dir = Files2.tempDir("cachepipe-tls-");
        TlsFiles f = new TlsFiles(
                dir,
                dir.resolve("ca.crt"),
                dir.resolve("server.crt"),
                dir.resolve("server.key"),
                dir.resolve("client.crt"),
                dir.resolve("client.key"));
        openssl(
                dir,
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=cachepipe test CA",
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt");
        f.sign("server", "/CN=localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost");
        f.sign("client", "/CN=cachepipe-test-client", "extendedKeyUsage=clientAuth");
        return f;
    }

    private void sign(String name, String subject, String extension) {
        openssl(
                dir,
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                subject,
                "-keyout",
                name + ".key",
                "-out",
                name + ".csr");
        java.nio.file.Path ext = dir.resolve(name + ".ext");
        try {
            java.nio.file.Files.writeString(ext, extension + "\n");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        openssl(
                dir,
                "x509",
                "-req",
                "-in",
                name + ".csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                name + ".ext",
                "-out",
                name + ".crt");
    }

    /** {@code redis-server} arguments for a TLS-only server on {@code port} with these files. */
    public List<String> redisServerArgs(int port, boolean requireClientCert) {
        return new ArrayList<>(List.of(
                "--port", "0",
                "--tls-port", Integer.toString(port),
                "--tls-cert-file", serverCert.toString(),
                "--tls-key-file", serverKey.toString(),
                "--tls-ca-cert-file", caCert.toString(),
                "--tls-auth-clients", requireClientCert ? "yes" : "no"));
    }

    private static void openssl(Path dir, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add("openssl");
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd)
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("openssl " + String.join(" ", args) + " failed: " + out);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run openssl (install it to run the TLS tests)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
