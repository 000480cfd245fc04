package dev.cachepipe.client;

/** The entity the tests cache: its version travels in the payload, so a reader can tell which version it got. */
public record Item(String id, long version, String body) {}
