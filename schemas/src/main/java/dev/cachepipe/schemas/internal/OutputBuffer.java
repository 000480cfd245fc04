package dev.cachepipe.schemas.internal;

import java.io.ByteArrayOutputStream;

/** A byte array output stream whose buffer is kept between records, unless one record made it large. */
public final class OutputBuffer extends ByteArrayOutputStream {
    private static final int INITIAL = 256;
    private static final int KEPT_AT_MOST = 64 * 1024;

    public OutputBuffer() {
        super(INITIAL);
    }

    /** Empties the buffer for the next record. */
    public void clear() {
        if (buf.length > KEPT_AT_MOST) {
            buf = new byte[INITIAL]; // do not keep one huge record's buffer for good
        }
        reset();
    }
}
