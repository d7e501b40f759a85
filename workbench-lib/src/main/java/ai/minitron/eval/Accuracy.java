package ai.minitron.eval;

/**
 * A proportion of correct items with lm-evaluation-harness's standard error: the sample standard
 * deviation over sqrt(n), which for 0/1 outcomes is {@code sqrt(p (1 - p) / (n - 1))} (NaN for n < 2).
 */
public record Accuracy(int correct, int n) {
    public Accuracy {
        if (correct < 0 || correct > n) {
            throw new IllegalArgumentException(correct + " correct out of " + n);
        }
    }

    public double value() {
        return n == 0 ? Double.NaN : (double) correct / n;
    }

    public double stderr() {
        if (n < 2) {
            return Double.NaN;
        }
        double p = value();
        return Math.sqrt(p * (1 - p) / (n - 1));
    }

    @Override
    public String toString() {
        return String.format("%.4f ± %.4f (%d/%d)", value(), stderr(), correct, n);
    }
}
