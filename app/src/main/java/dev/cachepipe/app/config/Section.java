package dev.cachepipe.app.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A YAML mapping read key by key: each getter substitutes environment variables, checks the value and names the
 * full dotted key, the value and what is allowed when it fails. Unknown keys are errors (they are usually typos).
 */
final class Section {
    private final String path;
    private final JsonNode node;
    private final Map<String, String> env;

    Section(String path, JsonNode node, Map<String, String> env) {
        this.path = path;
        this.node = node;
        this.env = env;
        if (node != null && !node.isNull() && !node.isObject()) {
            throw new ConfigException(path.isEmpty() ? "(root)" : path, node.toString(), "expected a mapping of keys");
        }
    }

    String key(String name) {
        return path.isEmpty() ? name : path + "." + name;
    }

    boolean has(String name) {
        return node != null && node.hasNonNull(name);
    }

    void allowOnly(String... names) {
        if (node == null) {
            return;
        }
        Set<String> allowed = Set.of(names);
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!allowed.contains(f)) {
                throw new ConfigException(
                        key(f), f, "unknown key; allowed here: " + String.join(", ", new TreeSet<>(allowed)));
            }
        }
    }

    Section section(String name) {
        return new Section(key(name), node == null ? null : node.get(name), env);
    }

    /** The names of the keys of this mapping, in file order. */
    List<String> names() {
        List<String> names = new ArrayList<>();
        if (node != null) {
            node.fieldNames().forEachRemaining(names::add);
        }
        return names;
    }

    String string(String name, String defaultValue) {
        if (!has(name)) {
            if (defaultValue == null) {
                throw new ConfigException(key(name), null, "this key is required");
            }
            return defaultValue;
        }
        JsonNode v = node.get(name);
        if (!v.isValueNode()) {
            throw new ConfigException(key(name), v.toString(), "expected a single value");
        }
        return Env.substitute(key(name), v.asText(), env);
    }

    String nonBlank(String name, String defaultValue) {
        String v = string(name, defaultValue);
        if (v.isBlank()) {
            throw new ConfigException(key(name), v, "must not be empty");
        }
        return v.trim();
    }

    int integer(String name, int defaultValue, int min, int max) {
        String v = string(name, Integer.toString(defaultValue)).trim();
        try {
            int n = Integer.parseInt(v);
            if (n < min || n > max) {
                throw new ConfigException(key(name), v, "must be between " + min + " and " + max);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new ConfigException(key(name), v, "must be a whole number between " + min + " and " + max);
        }
    }

    double decimal(String name, double defaultValue, double minInclusive, double maxExclusive) {
        String v = string(name, Double.toString(defaultValue)).trim();
        try {
            double d = Double.parseDouble(v);
            if (!(d >= minInclusive && d < maxExclusive)) {
                throw new ConfigException(key(name), v, "must be >= " + minInclusive + " and < " + maxExclusive);
            }
            return d;
        } catch (NumberFormatException e) {
            throw new ConfigException(key(name), v, "must be a number >= " + minInclusive + " and < " + maxExclusive);
        }
    }

    boolean bool(String name, boolean defaultValue) {
        String v = string(name, Boolean.toString(defaultValue)).trim();
        if (v.equalsIgnoreCase("true")) {
            return true;
        }
        if (v.equalsIgnoreCase("false")) {
            return false;
        }
        throw new ConfigException(key(name), v, "must be true or false");
    }

    Duration duration(String name, String defaultValue) {
        String v = string(name, defaultValue);
        Duration d = Durations.parse(v);
        if (d == null || d.isZero()) {
            throw new ConfigException(key(name), v, "must be a positive duration such as 500ms, 30s, 5m, 24h or 7d");
        }
        return d;
    }

    /** A list that may be absent (then empty). */
    List<String> optionalStringList(String name) {
        return has(name) ? stringList(name) : List.of();
    }

    List<String> stringList(String name) {
        if (!has(name)) {
            throw new ConfigException(key(name), null, "this key is required: a list such as [users.events]");
        }
        JsonNode v = node.get(name);
        List<String> out = new ArrayList<>();
        if (v.isArray()) {
            for (int i = 0; i < v.size(); i++) {
                out.add(Env.substitute(key(name) + "[" + i + "]", v.get(i).asText(), env)
                        .trim());
            }
        } else if (v.isValueNode()) {
            for (String s : Env.substitute(key(name), v.asText(), env).split(",")) {
                out.add(s.trim());
            }
        } else {
            throw new ConfigException(key(name), v.toString(), "expected a list such as [users.events]");
        }
        out.removeIf(String::isEmpty);
        if (out.isEmpty()) {
            throw new ConfigException(key(name), v.toString(), "must name at least one entry");
        }
        return List.copyOf(out);
    }

    Map<String, String> stringMap(String name) {
        Map<String, String> out = new LinkedHashMap<>();
        if (!has(name)) {
            return out;
        }
        Section s = section(name);
        for (String k : s.names()) {
            out.put(k, s.string(k, ""));
        }
        return out;
    }
}
