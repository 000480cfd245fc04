package dev.cachepipe.topology.internal;

import java.util.Map;
import org.apache.kafka.streams.state.RocksDBConfigSetter;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Cache;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.WriteBufferManager;

/**
 * Bounds the off-heap memory of every RocksDB store of the process (the versions store of each task) together, as the
 * Kafka Streams memory-management guide describes: one LRU block cache of {@value #TOTAL_BYTES} bytes shared by all
 * stores, which also holds their index and filter blocks and is charged for their memtables (a {@link
 * WriteBufferManager} of {@value #MEMTABLE_BYTES} bytes). Kafka Streams' default gives each store its own 50 MB cache
 * and three 16 MB memtables, so the memory of {@code run} grew with its tasks. The versions store holds a key and a
 * long per entity: a small cache serves it well.
 */
public final class BoundedRocksDb implements RocksDBConfigSetter {
    /** Block cache shared by every store of the process, memtables included. */
    static final long TOTAL_BYTES = 64L * 1024 * 1024;
    /** The part of {@link #TOTAL_BYTES} that memtables may take. */
    static final long MEMTABLE_BYTES = 16L * 1024 * 1024;

    private static Cache cache; // shared: created once, never closed (it lives as long as the process)
    private static WriteBufferManager writeBuffers;

    private static synchronized void init() {
        if (cache == null) {
            cache = new LRUCache(TOTAL_BYTES, -1, false, 0.1);
            writeBuffers = new WriteBufferManager(MEMTABLE_BYTES, cache);
        }
    }

    @Override
    public void setConfig(String storeName, Options options, Map<String, Object> configs) {
        init();
        BlockBasedTableConfig table = (BlockBasedTableConfig) options.tableFormatConfig();
        table.setBlockCache(cache);
        table.setCacheIndexAndFilterBlocks(true);
        table.setCacheIndexAndFilterBlocksWithHighPriority(true);
        table.setPinTopLevelIndexAndFilter(true);
        options.setWriteBufferManager(writeBuffers);
        options.setWriteBufferSize(4L * 1024 * 1024);
        options.setMaxWriteBufferNumber(2);
        options.setTableFormatConfig(table);
    }

    @Override
    public void close(String storeName, Options options) {
        // the cache and the write buffer manager are shared by every store: not closed with one of them
    }
}
