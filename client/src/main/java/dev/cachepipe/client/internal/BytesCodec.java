package dev.cachepipe.client.internal;

import dev.cachepipe.client.Codec;
import java.util.Objects;

/** {@link Codec#bytes}: the payload as it is. Not API. */
public final class BytesCodec implements Codec<byte[]> {
    public static final BytesCodec INSTANCE = new BytesCodec();

    private BytesCodec() {}

    @Override
    public String contentType() {
        return "application/octet-stream";
    }

    @Override
    public byte[] encode(byte[] value) {
        return Objects.requireNonNull(value, "value");
    }

    @Override
    public byte[] decode(byte[] payload) {
        return payload;
    }

    @Override
    public boolean accepts(String contentType) {
        return true;
    }

    @Override
    public String toString() {
        return "Codec.bytes()";
    }
}
