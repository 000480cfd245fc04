/**
 * Implementation of the schemas module's public classes: the Schema Registry HTTP calls, the directory of schema
 * files, TLS material from PEM files. Not an API: it may change in any release.
 */
package dev.cachepipe.schemas.internal;
