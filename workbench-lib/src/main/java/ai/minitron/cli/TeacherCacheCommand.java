package ai.minitron.cli;

import ai.djl.ndarray.NDManager;
import ai.minitron.data.Corpus;
import ai.minitron.data.TokenDataset;
import ai.minitron.distill.TeacherCache;
import ai.minitron.io.OutputDir;
import ai.minitron.io.OutputLock;
import ai.minitron.model.Provenance;
import ai.minitron.model.LanguageModel;
import ai.minitron.tokenize.Tokenizer;
import ai.minitron.train.DatasetBatches;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code minitron teacher-cache}: run the teacher once over a split and store its top-k logits (plus
 * the log-sum-exp, so top-k KL with a rest bucket is exact), for {@code minitron distill --teacher-cache}.
 */
@Command(name = "teacher-cache", description = "Precompute a teacher's top-k logits over a split for cached distillation"
        + " (resumes an interrupted build).")
final class TeacherCacheCommand implements Callable<Integer> {
    @Option(names = "--teacher", required = true, description = "Teacher checkpoint directory.")
    Path teacherDir;

    @Option(names = "--data", required = true, description = "Split file or split name (train, validation, test):"
            + " the distillation's --data.")
    String dataOption;

    @Option(names = "--tokens", required = true, description = "Tokens to cache (rounded up to whole samples; at most the"
            + " whole split, which serves any number of epochs).")
    long tokens;

    @Option(names = "--top-k", defaultValue = "32", description = "Logits kept per token (default ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--out", required = true, description = "Cache directory.")
    Path out;

    @Option(names = "--seq-len", defaultValue = "128", description = "Tokens per sample: must equal distill --seq-len"
            + " (default ${DEFAULT-VALUE}).")
    int seqLen;

    @Option(names = "--temperature", defaultValue = "1.0", description = "Distillation temperature the cache is for"
            + " (default ${DEFAULT-VALUE}).")
    double temperature;

    @Option(names = "--tokenizer", description = "tokenizer.json (default: the teacher's).")
    Path tokenizer;

    @Option(names = "--batch-size", defaultValue = "8") int batchSize;

    @Mixin
    OutputOptions output;

    @Option(names = "--shard-samples", defaultValue = "256", description = "Samples per shard file (default ${DEFAULT-VALUE}).")
    int shardSamples;

    @Override
    public Integer call() {
        if (tokens <= 0 || batchSize <= 0 || shardSamples <= 0) {
            throw new IllegalArgumentException("--tokens, --batch-size and --shard-samples must be positive");
        }
        Path data = SplitOptions.resolve("--data", dataOption);
        try (OutputLock lock = OutputOptions.lock(out); NDManager m = NDManager.newBaseManager();
                LanguageModel teacher = LanguageModel.load(teacherDir, m)) {
            output.open(out, OutputKind.TEACHER_CACHE, "teacher " + Provenance.checkpointHash(teacherDir));
            TokenDataset.checkSeqLen(seqLen, teacher.config().maxPositionEmbeddings());
            TokenDataset set;
            try (Tokenizer tok = teacher.openTokenizer(tokenizer)) {
                set = TokenDataset.pack(Corpus.read(data).documents(), tok, seqLen);
            }
            DatasetBatches rows = new DatasetBatches(set, 0, false);
            long samples = Math.min(set.size(), (tokens + seqLen - 1) / seqLen);
            String hash = Provenance.checkpointHash(teacherDir);
            System.err.printf("caching top-%d logits of %s over %,d samples x %d tokens of %s%n", topK, teacherDir, samples,
                    seqLen, data);
            TeacherCache.Manifest mf;
            try (ProgressBar pb = ProgressBars.open("teacher-cache", samples)) {
                mf = TeacherCache.build(teacher.config(), teacher.weights(), hash, data.getFileName().toString(), rows,
                        samples, topK, temperature, batchSize, shardSamples, out, pb::stepTo);
            }
            OutputDir.complete(out, OutputKind.TEACHER_CACHE.key, "teacher " + hash);
            System.out.printf("teacher cache written to %s: %,d samples, %,d teacher tokens, top-%d, %d shard(s)%n", out,
                    mf.samples(), mf.teacher_tokens(), mf.top_k(), mf.shards().size());
        }
        return 0;
    }
}
