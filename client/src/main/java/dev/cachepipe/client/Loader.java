package dev.cachepipe.client;

import java.util.Objects;
import java.util.function.Function;

/**
 * Loads an entity from its source of truth on a cache miss; see {@link EntityCache#get(String, Loader)}.
 *
 * <p>Return {@link Loaded#of(Object, long)} whenever the source knows the entity's version (row version, LSN): the
 * fill is then version-gated like the pipeline's writes. An unversioned value ({@link Loaded#of(Object)}) is stored
 * only if Redis still holds exactly what it held when the load began, at that fence's version or at version 0, so
 * every later write of the pipeline replaces it.
 *
 * @param <T> the entity's Java type
 */
@FunctionalInterface
public interface Loader<T> {

    /**
     * Loads entity {@code id}. Runs on the calling thread; may throw.
     *
     * @return the loaded value, or {@link Loaded#notFound()}; never {@code null}
     */
    Loaded<T> load(String id) throws Exception;

    /** An unversioned loader from a function that returns {@code null} for "not found". */
    static <T> Loader<T> of(Function<String, ? extends T> function) {
        Objects.requireNonNull(function, "function");
        return id -> {
            T value = function.apply(id);
            return value == null ? Loaded.notFound() : Loaded.of(value);
        };
    }
}
