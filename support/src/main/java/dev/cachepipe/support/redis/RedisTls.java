package dev.cachepipe.support.redis;

import io.lettuce.core.SslOptions;
import io.lettuce.core.SslVerifyMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;

/**
 * TLS settings for {@code rediss://} URIs beyond the JDK's defaults: a CA bundle to trust instead of the JDK's trust
 * store (a private CA), a client certificate for servers that require one ({@code tls-auth-clients yes}), and how
 * much of the server's certificate to check. Managed services with public certificates (ElastiCache, Memorystore,
 * Azure Cache) need none of it. Files are PEM; the key unencrypted PKCS#8 ({@code BEGIN PRIVATE KEY}).
 *
 * @param caFile CA certificates to trust, or null for the JDK's trust store
 * @param certFile client certificate chain, or null for none
 * @param keyFile the client certificate's private key (with {@code certFile})
 * @param verify {@link Verify#FULL}: the chain and the host name; {@link Verify#CA}: the chain only (servers whose
 *     certificates do not name the address used, e.g. cluster nodes announced by IP); {@link Verify#NONE}: nothing
 *     (tests only: anyone in the path can read and change the data)
 */
public record RedisTls(Path caFile, Path certFile, Path keyFile, Verify verify) {
    private static final RedisTls DEFAULTS = new RedisTls(null, null, null, Verify.FULL);

    /** How much of the server's certificate is checked. */
    public enum Verify {
        FULL,
        CA,
        NONE;

        /** {@code full}, {@code ca} or {@code none}. */
        public static Verify parse(String value) {
            try {
                return valueOf(value.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException | NullPointerException e) {
                throw new IllegalArgumentException("verifyPeer must be full, ca or none but was '" + value + "'");
            }
        }

        SslVerifyMode lettuce() {
            return switch (this) {
                case FULL -> SslVerifyMode.FULL;
                case CA -> SslVerifyMode.CA;
                case NONE -> SslVerifyMode.NONE;
            };
        }
    }

    public RedisTls {
        Objects.requireNonNull(verify, "verify");
        if ((certFile == null) != (keyFile == null)) {
            throw new IllegalArgumentException("a client certificate needs both certFile and keyFile");
        }
        for (Path p : new Path[] {caFile, certFile, keyFile}) {
            if (p != null && !Files.isReadable(p)) {
                throw new IllegalArgumentException("cannot read " + p);
            }
        }
    }

    /** The JDK's trust store, no client certificate, full verification. */
    public static RedisTls defaults() {
        return DEFAULTS;
    }

    /** Lettuce's SSL options for these settings. */
    SslOptions sslOptions() {
        SslOptions.Builder b = SslOptions.builder().jdkSslProvider();
        if (caFile != null) {
            b.trustManager(caFile.toFile());
        }
        if (certFile != null) {
            b.keyManager(certFile.toFile(), keyFile.toFile(), null);
        }
        return b.build();
    }

    @Override
    public String toString() {
        return "RedisTls[caFile=" + caFile + ", certFile=" + certFile + ", keyFile="
                + (keyFile == null ? null : "(set)") + ", verify="
                + verify.name().toLowerCase(Locale.ROOT) + "]";
    }
}
