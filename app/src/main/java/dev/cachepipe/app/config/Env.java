package dev.cachepipe.app.config;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** {@code ${NAME}} and {@code ${NAME:-default}} substitution in configuration values. */
final class Env {
    private static final Pattern VAR = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?}");

    private Env() {}

    static String substitute(String key, String text, Map<String, String> env) {
        Matcher m = VAR.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String value = env.get(m.group(1));
            if (value == null || (value.isEmpty() && m.group(2) != null)) {
                value = m.group(3);
            }
            if (value == null) {
                throw new ConfigException(
                        key, text, "environment variable " + m.group(1) + " is not set and has no ${NAME:-default}");
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return out.toString();
    }
}
