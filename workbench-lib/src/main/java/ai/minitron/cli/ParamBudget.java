package ai.minitron.cli;

import java.util.Locale;

/** A parameter budget as typed on the command line: {@code 3800000}, {@code 3.8M}, {@code 120K}, {@code 1.5B} or {@code 50%} of the parent. */
final class ParamBudget {
    private ParamBudget() {}

    static long parse(String text, long parentParams, String option) {
        String t = text.trim().toUpperCase(Locale.ROOT).replace("_", "").replace(",", "");
        try {
            if (t.endsWith("%")) {
                double pct = Double.parseDouble(t.substring(0, t.length() - 1));
                return Math.round(pct / 100.0 * parentParams);
            }
            double scale = switch (t.isEmpty() ? ' ' : t.charAt(t.length() - 1)) {
                case 'K' -> 1e3;
                case 'M' -> 1e6;
                case 'B', 'G' -> 1e9;
                default -> 1;
            };
            String num = scale == 1 ? t : t.substring(0, t.length() - 1);
            return Math.round(Double.parseDouble(num) * scale);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " '" + text + "' is not a parameter count (e.g. 3800000, 3.8M, 50%)");
        }
    }
}
