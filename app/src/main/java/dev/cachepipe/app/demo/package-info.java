/**
 * {@code cachepipe demo}: the command ({@link dev.cachepipe.app.demo.DemoCommand}), which runs the real pipeline
 * against embedded servers, and what it adds around it: the event generator (with duplicates, out-of-order versions,
 * deletes and poison), the oracle of what Redis must hold, the consistency check, the cache clients that read while
 * events flow, and counters of dead letters and writes for its progress line. Tests use the generator, the oracle and
 * the check too.
 */
package dev.cachepipe.app.demo;
