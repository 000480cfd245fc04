package dev.cachepipe.schemas;

import dev.cachepipe.schemas.internal.DirectorySchemas;
import java.nio.file.Path;
import org.apache.avro.Schema;

/**
 * Writer schemas by their Schema Registry id, for records in the Confluent wire format: a registry ({@link
 * SchemaRegistryClient}) or a directory of {@code <id>.avsc} files ({@link #directory}).
 *
 * <p>Implementations are thread-safe. A schema id names one schema for good, so callers may cache what they get.
 */
public interface SchemaSource {
    /**
     * The schema with registry id {@code id}.
     *
     * @throws UnknownSchemaException the source says there is no schema with this id (a record that names it cannot
     *     be decoded: dead-letter it)
     * @throws IncompatibleSchemaException the source has it, but it is not an Avro schema that can be parsed
     * @throws SchemaRegistryUnavailableException the source cannot answer now (a registry outage): the record must
     *     wait, never be dead-lettered
     */
    Schema schema(int id);

    /** Where the schemas come from, without credentials (for logs and error messages). */
    String describe();

    /**
     * Schemas from the files {@code <id>.avsc} in {@code dir} (the file's name is the schema id), for installations
     * without a registry. Files are read when an id is first asked for, so new files are picked up without a restart.
     */
    static SchemaSource directory(Path dir) {
        return new DirectorySchemas(dir);
    }
}
