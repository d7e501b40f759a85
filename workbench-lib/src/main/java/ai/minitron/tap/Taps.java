package ai.minitron.tap;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The set of listeners attached to a forward pass, by {@link Site}. The forward asks
 * {@link #wants(Site)} before emitting, so a pass with {@link #NONE} does no extra work: no copies,
 * no extra tensors, only a map lookup per site.
 */
public final class Taps {
    /** No listeners: the forward pass costs exactly what it would without taps. */
    public static final Taps NONE = new Taps();

    private final Map<Site, List<TapListener>> listeners = new EnumMap<>(Site.class);

    /** Adds a listener at one site; returns this for chaining. */
    public Taps on(Site site, TapListener listener) {
        if (this == NONE) {
            throw new IllegalStateException("Taps.NONE is shared and immutable; use new Taps()");
        }
        listeners.computeIfAbsent(site, s -> new ArrayList<>()).add(listener);
        return this;
    }

    /** Adds one listener at several sites. */
    public Taps on(TapListener listener, Site... sites) {
        for (Site s : sites) {
            on(s, listener);
        }
        return this;
    }

    public boolean wants(Site site) {
        return listeners.containsKey(site);
    }

    public boolean isEmpty() {
        return listeners.isEmpty();
    }

    /** Delivers an activation to every listener of the site (call only when {@link #wants} is true). */
    public void emit(Site site, int layer, NDArray value) {
        List<TapListener> ls = listeners.get(site);
        if (ls != null) {
            for (TapListener l : ls) {
                l.onActivation(site, layer, value);
            }
        }
    }
}
