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
}
