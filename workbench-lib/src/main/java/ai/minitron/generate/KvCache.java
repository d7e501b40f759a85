package ai.minitron.generate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.minitron.config.ModelConfig;

/**
 * The key/value cache of autoregressive decoding: for every layer, the rotated keys and the values
 * of every position seen so far, so a new token attends to them without recomputing them (the
 * standard trick of Transformer inference; Hugging Face's {@code StaticCache} is the same shape).
 *
 * <p>Preallocated once per generation, GQA-shaped: keys and values are {@code [B, nKV, capacity, D]}
 * per layer, i.e. one slot per key/value head, not per query head, so the cache is
 * {@code nH / nKV} times smaller than with repeated heads. They are stored as
 * {@code [B, nKV, 1, capacity, D]}: the singleton axis is where the g query heads of a group
 * broadcast, so attention reads the cache without a reshape. Slots {@code 0 .. length-1} are filled;
 * a forward over T new tokens writes slots {@code length .. length+T-1} of every layer
 * ({@link #write}) and then moves {@link #length} on by T ({@link #advance}). Slot index = position
 * in the padded batch, not the RoPE position: with left padding a row's RoPE position is its slot
 * minus its padding.
 *
 * <p>The arrays live on their own sub-manager of the manager given (so on its device); close the
 * cache to free them.
 */
public final class KvCache implements AutoCloseable {
    private final NDManager manager;
    private final NDArray[] keys; // per layer [B, nKV, 1, capacity, D]
    private final NDArray[] values; // per layer [B, nKV, 1, capacity, D]
    private final int batch;
    private final int capacity;
    private int length;

    /**
     * @param batch rows B
     * @param capacity slots per row: prompt (with padding) + new tokens
     * @param dtype the model's compute dtype
     */
    public KvCache(ModelConfig c, NDManager parent, int batch, int capacity, DataType dtype) {
        if (batch < 1) {
            throw new IllegalArgumentException("KV cache batch must be >= 1, got " + batch);
        }
        if (capacity < 1) {
            throw new IllegalArgumentException("KV cache capacity must be >= 1, got " + capacity);
        }
        this.manager = parent.newSubManager();
        this.batch = batch;
        this.capacity = capacity;
        int layers = c.numHiddenLayers();
        this.keys = new NDArray[layers];
        this.values = new NDArray[layers];
        Shape shape = new Shape(batch, c.numKeyValueHeads(), 1, capacity, c.headDim());
        for (int l = 0; l < layers; l++) {
            keys[l] = manager.zeros(shape, dtype);
            values[l] = manager.zeros(shape, dtype);
        }
    }

    /**
     * Stores the keys and values of T new positions of one layer at slots {@code length .. length+T-1}
     * (in place) and returns views of all filled slots including them.
     *
     * @param k rotated keys [B, nKV, 1, T, D]; v values likewise
     * @return {keys, values}, each [B, nKV, 1, length+T, D]
     */
    public NDArray[] write(int layer, NDArray k, NDArray v) {
        long t = k.getShape().get(3);
        int end = Math.toIntExact(length + t);
        if (end > capacity) {
            throw new IllegalStateException("KV cache full: " + length + " slots used + " + t + " new > capacity "
                    + capacity);
        }
        if (k.getShape().get(0) != batch) {
            throw new IllegalArgumentException("KV cache holds " + batch + " rows but got keys of shape " + k.getShape());
        }
        NDIndex slots = new NDIndex(":, :, :, {}:{}", length, end);
        keys[layer].set(slots, k);
        values[layer].set(slots, v);
        NDIndex filled = new NDIndex(":, :, :, :{}", end);
        return new NDArray[] {keys[layer].get(filled), values[layer].get(filled)};
    }

    /** Marks T more slots as filled (after every layer has written them). */
    public void advance(int t) {
        if (length + t > capacity) {
            throw new IllegalStateException("KV cache full: " + length + " + " + t + " > capacity " + capacity);
        }
        length += t;
    }

    /** Filled slots per row. */
    public int length() {
        return length;
    }

    public int capacity() {
        return capacity;
    }

    public int batch() {
        return batch;
    }

    /** Bytes held by keys and values over all layers. */
    public long bytes() {
        long n = 0;
        for (int l = 0; l < keys.length; l++) {
            n += keys[l].size() * keys[l].getDataType().getNumOfBytes() * 2;
        }
        return n;
    }

    @Override
    public void close() {
        manager.close();
    }
}
