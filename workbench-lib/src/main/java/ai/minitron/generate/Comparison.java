package ai.minitron.generate;

import java.util.List;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Two models side by side on the same prompts with the same settings — typically the teacher and a
 * pruned or distilled student — as a Tablesaw table a researcher reads row by row: prompt, each
 * model's text, its number of new tokens and its tokens/s (to 0.1; wall time including prefill;
 * with a batch size above one the rows of a batch share the prefill time).
 */
public final class Comparison {
    private Comparison() {}

    /** Generates with both models and tabulates. Names label the columns ("teacher text", ...). */
    public static Table sideBySide(String nameA, Generator a, String nameB, Generator b, List<String> prompts,
            GenerationConfig cfg) {
        List<Generation> ga = a.generate(prompts, cfg, TokenListener.NONE);
        List<Generation> gb = b.generate(prompts, cfg, TokenListener.NONE);
        return table(nameA, ga, nameB, gb);
    }

    /**
     * Columns: prompt, "A text", "B text", "A tokens", "B tokens", "A tokens/s", "B tokens/s".
     *
     * @param a results of model A, one per prompt, in the same prompt order as {@code b}
     */
    public static Table table(String nameA, List<Generation> a, String nameB, List<Generation> b) {
        if (nameA.equals(nameB)) {
            throw new IllegalArgumentException("the two models need different names, both are '" + nameA + "'");
        }
        if (a.size() != b.size()) {
            throw new IllegalArgumentException("model " + nameA + " has " + a.size() + " results but " + nameB + " has "
                    + b.size() + ": compare results of the same prompts");
        }
        int n = a.size();
        String[] prompt = new String[n];
        String[] textA = new String[n];
        String[] textB = new String[n];
        int[] tokA = new int[n];
        int[] tokB = new int[n];
        double[] tpsA = new double[n];
        double[] tpsB = new double[n];
        for (int i = 0; i < n; i++) {
            Generation x = a.get(i);
            Generation y = b.get(i);
            prompt[i] = x.prompt() != null ? x.prompt() : y.prompt();
            textA[i] = x.text();
            textB[i] = y.text();
            tokA[i] = x.newTokens();
            tokB[i] = y.newTokens();
            tpsA[i] = Math.round(x.tokensPerSecond() * 10) / 10.0;
            tpsB[i] = Math.round(y.tokensPerSecond() * 10) / 10.0;
        }
        return Table.create(nameA + " vs " + nameB,
                StringColumn.create("prompt", prompt),
                StringColumn.create(nameA + " text", textA),
                StringColumn.create(nameB + " text", textB),
                IntColumn.create(nameA + " tokens", tokA),
                IntColumn.create(nameB + " tokens", tokB),
                DoubleColumn.create(nameA + " tokens/s", tpsA),
                DoubleColumn.create(nameB + " tokens/s", tpsB));
    }
}
