/**
 * The cachepipe configuration: the YAML file (bundled default: {@code config/cachepipe.yaml}) with {@code
 * ${ENV:-default}} substitution, read into validated records whose errors name the key, the value and what is allowed.
 */
package dev.cachepipe.app.config;
