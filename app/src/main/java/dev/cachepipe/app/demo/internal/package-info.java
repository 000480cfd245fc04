/**
 * The demo generator's machinery: the planner that decides which valid events a run publishes, in which order, with
 * which duplicates and deletes. Not used outside {@link dev.cachepipe.app.demo}.
 */
package dev.cachepipe.app.demo.internal;
