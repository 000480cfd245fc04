package dev.cachepipe.schemas.internal;

import dev.cachepipe.schemas.IncompatibleSchemaException;
import dev.cachepipe.schemas.SchemaRegistryUnavailableException;
import dev.cachepipe.schemas.SchemaSource;
import dev.cachepipe.schemas.UnknownSchemaException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;

/** Writer schemas from the files {@code <id>.avsc} of one directory; see {@link SchemaSource#directory}. */
public final class DirectorySchemas implements SchemaSource {
    private final Path dir;
    private final Map<Integer, Schema> byId = new ConcurrentHashMap<>();

    public DirectorySchemas(Path dir) {
        this.dir = Objects.requireNonNull(dir, "dir");
    }

    @Override
    public Schema schema(int id) {
        Schema known = byId.get(id);
        if (known != null) {
            return known;
        }
        Path file = dir.resolve(Integer.toUnsignedString(id) + ".avsc");
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new UnknownSchemaException(
                    "unknown writer schema: no file " + file.getFileName() + " for schema id " + id + " in " + dir,
                    null);
        } catch (IOException e) {
            throw new SchemaRegistryUnavailableException("cannot read " + file + ": " + e, e);
        }
        Schema schema;
        try {
            schema = new Schema.Parser().parse(text);
        } catch (AvroRuntimeException e) { // SchemaParseException, AvroTypeException (an undefined type)
            throw new IncompatibleSchemaException(
                    file + " (schema id " + id + ") is not an Avro schema: " + e.getMessage(), null);
        }
        Schema raced = byId.putIfAbsent(id, schema);
        return raced != null ? raced : schema;
    }

    @Override
    public String describe() {
        return "the schema directory " + dir;
    }
}
