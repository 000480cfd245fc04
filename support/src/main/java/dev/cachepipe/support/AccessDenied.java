package dev.cachepipe.support;

import dev.cachepipe.schemas.Redact;
import io.lettuce.core.RedisCommandExecutionException;
import java.util.List;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;

/**
 * An authorization or authentication failure: Kafka refusing cachepipe's principal (ACLs, SASL/SSL credentials) or
 * Redis refusing its user (ACL {@code NOPERM}, {@code WRONGPASS}, {@code NOAUTH}). No retry fixes one, so whoever
 * meets one stops with a message saying what was refused and what to check, instead of stalling as for an outage
 * ({@code cachepipe run} exits with status 1). An {@link IllegalStateException}, so the CLI prints its message.
 */
public final class AccessDenied extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /** Reply prefixes of a Redis that refuses the user (ACL) or its credentials. */
    private static final List<String> REDIS_DENIALS = List.of("NOPERM", "WRONGPASS", "NOAUTH");

    private AccessDenied(String message, Throwable cause) {
        super(message, cause);
    }

    /** The denial that {@code t} is or was caused by, or {@code null} if it is none (e.g. an outage). */
    public static Throwable find(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof AccessDenied
                    || c instanceof AuthorizationException
                    || c instanceof AuthenticationException) {
                return c;
            }
            if (c instanceof RedisCommandExecutionException && c.getMessage() != null) {
                for (String prefix : REDIS_DENIALS) {
                    if (c.getMessage().startsWith(prefix)) {
                        return c;
                    }
                }
            }
        }
        return null;
    }

    /**
     * Throws an {@code AccessDenied} if {@code t} is or was caused by a denial; returns otherwise.
     *
     * @param refused what was refused, e.g. "Kafka refused to publish invalidations to topic X"
     */
    public static void check(String refused, Throwable t) {
        AccessDenied d = in(refused, t);
        if (d != null) {
            throw d;
        }
    }

    /** The denial in {@code t} as an {@code AccessDenied} saying what was {@code refused}, or {@code null}. */
    public static AccessDenied in(String refused, Throwable t) {
        Throwable denial = find(t);
        if (denial == null || denial instanceof AccessDenied) {
            return (AccessDenied) denial;
        }
        return new AccessDenied(refused + ": " + Redact.describe(denial) + " (" + hint(denial) + ")", t);
    }

    private static String hint(Throwable denial) {
        if (denial instanceof AuthorizationException) {
            return "a Kafka ACL forbids it: grant cachepipe's principal this operation on this resource";
        }
        if (denial instanceof AuthenticationException) {
            return "an authentication failure: check the security.protocol, sasl.* and ssl.* settings in"
                    + " kafka.properties";
        }
        return denial.getMessage().startsWith("NOPERM")
                ? "a Redis ACL forbids the command or key: grant redis.username EVALSHA, SCRIPT LOAD and the"
                        + " keys <keyPrefix>:*"
                : "Redis refused the credentials: check redis.username and redis.password";
    }
}
