package dev.cachepipe.schemas;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Removes credentials from text bound for logs, health reasons and error messages: the one place where writer,
 * client and CLI decide what a secret looks like.
 */
public final class Redact {
    /** The user-info of a URI: everything from {@code scheme://} to the last {@code @} of the same word. */
    private static final Pattern USER_INFO = Pattern.compile("(?i)([a-z][a-z0-9+.-]*://)[^\\s]*@");

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

    /** {@code text} with the user-info part of any URI in it ({@code user:password@}) replaced by {@code ***@}. */
    public static String credentials(String text) {
        return text == null ? null : USER_INFO.matcher(text).replaceAll("$1***@");
    }

    /** A one-line description of {@code t} (class and message, up to two causes) without credentials. */
    public static String describe(Throwable t) {
        StringBuilder sb = new StringBuilder();
        Throwable c = t;
        for (int depth = 0; c != null && depth < 3; depth++, c = c.getCause()) {
            if (depth > 0) {
                sb.append(" <- ");
            }
            sb.append(c.getClass().getSimpleName());
            if (c.getMessage() != null) {
                sb.append(": ").append(c.getMessage());
            }
            if (c.getCause() == c) {
                break;
            }
        }
        return credentials(sb.toString());
    }

    /**
     * Kafka client properties with the values of secrets masked: anything whose key names a password, secret, token,
     * credential or JAAS configuration (e.g. {@code sasl.jaas.config}, {@code ssl.key.password}).
     */
    public static Map<String, String> properties(Map<String, String> props) {
        Map<String, String> out = new TreeMap<>();
        props.forEach((k, v) -> out.put(k, isSecretKey(k) ? "****" : v));
        return out;
    }

    static boolean isSecretKey(String key) {
        String k = key.toLowerCase(Locale.ROOT);
        return k.contains("password")
                || k.contains("secret")
                || k.contains("token")
                || k.contains("jaas")
                || k.contains("credential")
                || k.endsWith(".key");
    }
}
