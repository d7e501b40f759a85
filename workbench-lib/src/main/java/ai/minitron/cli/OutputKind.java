package ai.minitron.cli;

import java.util.Set;

/**
 * The kinds of folder the commands write ({@link ai.minitron.io.OutputDir}'s marker records one), each with
 * the files that identify a folder of that kind written before markers existed.
 */
enum OutputKind {
    CONVERT("convert", "config.json"),
    PRUNE("prune", "config.json", "pruning.json"),
    IMPORTANCE("importance", "importance.arrow", "run.json"),
    DISTILL("distill", "checkpoint", "distill_metrics.arrow", "model", "teacher-corrected"),
    DISTILL_MODEL("distill-model", "config.json"),
    SEARCH("search", "search.json", "candidates.arrow", "retrain.arrow"),
    SEARCH_EXPORT("search-export", "config.json"),
    TEACHER_CACHE("teacher-cache", "manifest.json"),
    TRAIN("train", "checkpoint", "metrics.arrow", "run-config.json", "model"),
    TRAIN_MODEL("train-model", "config.json"),
    EVAL("eval", "report.arrow", "report.md", "report.html"),
    REPRODUCE("reproduce", "findings.arrow", "findings.md", "run.json", "experiments", "runs"),
    CASE_STUDY("case-study", "results.arrow", "steps.json", "students", "runs", "importance", "eval", "best");

    final String key;
    final Set<String> files;

    OutputKind(String key, String... files) {
        this.key = key;
        this.files = Set.of(files);
    }
}
