package dev.cachepipe.client.internal;

import java.util.regex.Pattern;

/** Removes credentials from text bound for logs and exception messages. Not API. */
public final class Redact {
    private static final Pattern USER_INFO = Pattern.compile("(?i)([a-z][a-z0-9+.-]*://)[^@/\\s]*@");

    private Redact() {}

    /** {@code text} with the user-info part of any URI ({@code user:password@}) replaced by {@code ***@}. */
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
}
