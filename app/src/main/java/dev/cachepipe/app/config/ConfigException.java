package dev.cachepipe.app.config;

/** A configuration value that is missing or not allowed; the message names the key, the value and what is allowed. */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String key;

    public ConfigException(String key, Object value, String allowed) {
        super(key + ": " + (value == null ? "missing" : "'" + value + "' is not allowed") + "; " + allowed);
        this.key = key;
    }

    public ConfigException(String message) {
        super(message);
        this.key = null;
    }

    /** The offending key (dotted path), or {@code null} when the error is not about one key. */
    public String key() {
        return key;
    }
}
