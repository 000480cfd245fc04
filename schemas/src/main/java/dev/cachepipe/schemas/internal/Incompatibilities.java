package dev.cachepipe.schemas.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;

/** Avro's reader/writer incompatibilities in words: "field 'version': reader type: LONG not compatible ...". */
public final class Incompatibilities {
    private static final Pattern FIELD = Pattern.compile("^/fields/(\\d+)");

    private Incompatibilities() {}

    /** One "where: what" per problem, separated by "; ", fields named as the reader schema names them. */
    public static String describe(SchemaCompatibility.SchemaPairCompatibility check, Schema reader) {
        List<String> out = new ArrayList<>();
        for (SchemaCompatibility.Incompatibility p : check.getResult().getIncompatibilities()) {
            Matcher m = FIELD.matcher(p.getLocation());
            int index = m.find() ? Integer.parseInt(m.group(1)) : -1;
            String where = index >= 0 && index < reader.getFields().size()
                    ? "field '" + reader.getFields().get(index).name() + "'"
                    : p.getLocation();
            out.add(where + ": " + p.getMessage());
        }
        return out.isEmpty() ? check.getDescription() : String.join("; ", out);
    }
}
