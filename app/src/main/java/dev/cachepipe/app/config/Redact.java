package dev.cachepipe.app.config;

/** Removes credentials from URIs before they are shown or logged. */
public final class Redact {
    private Redact() {}

    /** {@code redis://user:secret@host:6379/0} becomes {@code redis://user:****@host:6379/0}. */
    public static String uri(String uri) {
        if (uri == null) {
            return null;
        }
        int scheme = uri.indexOf("://");
        int at = uri.lastIndexOf('@');
        if (scheme < 0 || at < scheme) {
            return uri;
        }
        String userInfo = uri.substring(scheme + 3, at);
        int colon = userInfo.indexOf(':');
        String shown = colon < 0 ? "****" : userInfo.substring(0, colon) + ":****";
        return uri.substring(0, scheme + 3) + shown + uri.substring(at);
    }

    /**
     * Kafka client properties with the values of secrets masked: anything whose key names a password, secret, token,
     * credential or JAAS configuration (e.g. {@code sasl.jaas.config}, {@code ssl.key.password}).
     */
    public static java.util.Map<String, String> properties(java.util.Map<String, String> props) {
        java.util.Map<String, String> out = new java.util.TreeMap<>();
        props.forEach((k, v) -> out.put(k, isSecretKey(k) ? "****" : v));
        return out;
    }

    static boolean isSecretKey(String key) {
        String k = key.toLowerCase(java.util.Locale.ROOT);
        return k.contains("password")
                || k.contains("secret")
                || k.contains("token")
                || k.contains("jaas")
                || k.contains("credential")
                || k.endsWith(".key");
    }
}
