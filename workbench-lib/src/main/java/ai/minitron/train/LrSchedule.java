package ai.minitron.train;

/**
 * Linear warmup then cosine decay: lr rises linearly from 0 to {@code maxLr} over {@code warmup}
 * steps, then follows half a cosine from {@code maxLr} down to {@code minLr} at {@code total} steps
 * (and stays there). Step numbers start at 0.
 */
public record LrSchedule(double maxLr, double minLr, long warmup, long total) {
    public LrSchedule {
        if (maxLr <= 0 || minLr < 0 || minLr > maxLr) {
            throw new IllegalArgumentException("need 0 <= min-lr <= lr and lr > 0, got lr=" + maxLr + " min-lr=" + minLr);
        }
        if (warmup < 0 || total <= 0) {
            throw new IllegalArgumentException("need warmup >= 0 and steps > 0, got warmup=" + warmup + " steps=" + total);
        }
    }

    public double at(long step) {
        if (step < warmup) {
            return maxLr * (step + 1) / warmup;
        }
        if (step >= total) {
            return minLr;
        }
        double progress = (double) (step - warmup) / Math.max(1, total - warmup);
        return minLr + 0.5 * (maxLr - minLr) * (1 + Math.cos(Math.PI * progress));
    }
}
