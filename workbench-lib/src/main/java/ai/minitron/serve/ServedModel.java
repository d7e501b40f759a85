package ai.minitron.serve;

import ai.djl.ndarray.NDManager;
import ai.minitron.generate.Generator;
import ai.minitron.model.LanguageModel;
import ai.minitron.tokenize.Tokenizer;
import java.nio.file.Path;

/**
 * One checkpoint the server answers for, under the name clients put in {@code "model"}: its weights, its
 * tokenizer (the checkpoint's {@code tokenizer.json}) and a generator over both. Closing it frees the weights.
 */
public final class ServedModel implements AutoCloseable {
    private final String name;
    private final Path dir;
    private final NDManager manager;
    private final LanguageModel lm;
    private final Tokenizer tokenizer;
    private final Generator generator;

    private ServedModel(String name, Path dir, NDManager manager, LanguageModel lm, Tokenizer tokenizer) {
        this.name = name;
        this.dir = dir;
        this.manager = manager;
        this.lm = lm;
        this.tokenizer = tokenizer;
        this.generator = Generator.of(lm, tokenizer);
    }

    /** Loads {@code dir} (a Hugging Face checkpoint directory with tokenizer.json) as {@code name}. */
    public static ServedModel load(String name, Path dir) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a served model needs a non-empty name (model directory " + dir + ")");
        }
        NDManager m = NDManager.newBaseManager();
        try {
            LanguageModel lm = LanguageModel.load(dir, m);
            Tokenizer tok = lm.openTokenizer(null);
            lm.checkVocab(tok);
            return new ServedModel(name, dir, m, lm, tok);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    /** The name for {@code NAME=DIR}, or the directory's own name for a bare {@code DIR}. */
    public static String nameOf(String spec) {
        int eq = spec.indexOf('=');
        if (eq > 0) {
            return spec.substring(0, eq);
        }
        Path p = Path.of(spec).toAbsolutePath().normalize();
        return p.getFileName() == null ? spec : p.getFileName().toString();
    }

    /** The directory of {@code NAME=DIR} or of a bare {@code DIR}. */
    public static Path dirOf(String spec) {
        int eq = spec.indexOf('=');
        return Path.of(eq > 0 ? spec.substring(eq + 1) : spec);
    }

    public String name() {
        return name;
    }

    public Path dir() {
        return dir;
    }

    public NDManager manager() {
        return manager;
    }

    public LanguageModel lm() {
        return lm;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public Generator generator() {
        return generator;
    }

    /** The longest sequence (prompt plus completion) the model reads: max_position_embeddings. */
    public int contextLength() {
        return lm.config().maxPositionEmbeddings();
    }

    @Override
    public void close() {
        tokenizer.close();
        lm.close();
        manager.close();
    }
}
