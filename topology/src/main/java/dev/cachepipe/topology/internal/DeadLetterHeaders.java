package dev.cachepipe.topology.internal;

import dev.cachepipe.topology.CachepipeTopology;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.kafka.clients.producer.ProducerRecord;

/** Adds cachepipe's reason headers to the dead-letter records built by Kafka Streams. */
final class DeadLetterHeaders {
    static final String REASON = CachepipeTopology.DLQ_REASON_HEADER;
    static final String DETAIL = CachepipeTopology.DLQ_DETAIL_HEADER;

    private static final int MAX_DETAIL_CHARS = 1000;

    private DeadLetterHeaders() {}

    static List<ProducerRecord<byte[], byte[]>> annotate(
            List<ProducerRecord<byte[], byte[]>> records, String reason, String detail) {
        String shortDetail = detail == null
                ? ""
                : detail.length() > MAX_DETAIL_CHARS ? detail.substring(0, MAX_DETAIL_CHARS) + "..." : detail;
        for (ProducerRecord<byte[], byte[]> record : records) {
            // the source record's headers were copied; ours must appear once
            record.headers().remove(REASON).remove(DETAIL);
            record.headers().add(REASON, reason.getBytes(StandardCharsets.UTF_8));
            record.headers().add(DETAIL, shortDetail.getBytes(StandardCharsets.UTF_8));
        }
        return records;
    }
}
