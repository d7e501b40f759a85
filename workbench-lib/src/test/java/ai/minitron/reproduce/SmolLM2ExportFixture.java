package ai.minitron.reproduce;

import ai.djl.ndarray.NDManager;
import ai.minitron.config.ModelConfig;
import ai.minitron.importance.MagnitudeMetric;
import ai.minitron.io.TensorDType;
import ai.minitron.model.GgufConversion;
import ai.minitron.model.LanguageModel;
import ai.minitron.prune.PrunePlan;
import ai.minitron.prune.Pruner;
import ai.minitron.prune.PruningRecord;
import ai.minitron.prune.UnitScores;
import ai.minitron.search.Candidate;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The SmolLM2 student export fixture: SmolLM2-135M (the pinned GGUF, dequantised to F32) pruned to the case
 * study's width-student shape ({@link CaseStudy#widthShape(ModelConfig)}: all 30 layers, the default shape
 * rule at the depth student's size), ranked by the data-free weight-magnitude metric so the export is a
 * deterministic function of the pinned GGUF. {@link #main} writes it (too large to commit);
 * {@code tools/make_smollm2_export_fixture.py} records transformers' logits for it under each transformers
 * version (4.x, the version the other fixtures were made with, and the current 5.x), and
 * {@link SmolLM2ExportParityTest} re-makes the export and checks both.
 */
public final class SmolLM2ExportFixture {
    static final Path DIR = Path.of("src/test/resources/golden/smollm2_student");
    static final Path GGUF_FILE = Path.of("../cache/models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf");

    private SmolLM2ExportFixture() {}

    /** The pinned GGUF ($SMOLLM2_GGUF overrides), failing with the command that fetches it. */
    static Path gguf() {
        String env = System.getenv("SMOLLM2_GGUF");
        Path p = env != null ? Path.of(env) : GGUF_FILE;
        if (!Files.isRegularFile(p)) {
            throw new IllegalStateException("SmolLM2 GGUF not found at " + p.toAbsolutePath()
                    + ": run `python3 tools/fetch_smollm2.py` (tools/setup_test_env.sh does it before the tests)");
        }
        return p;
    }

    /** The width student's plan for this teacher. */
    static PrunePlan plan(ModelConfig teacher) {
        Candidate c = CaseStudy.widthShape(teacher);
        return c.plan(PrunePlan.Depth.LOWEST);
    }

    /** Converts the GGUF into {@code work/teacher} and writes the pruned export to {@code work/student}. */
    static Path write(Path work) throws Exception {
        Path teacherDir = GgufConversion.convertOnce(gguf(), work.resolve("teacher"), TensorDType.F32, null);
        Path out = work.resolve("student");
        try (NDManager m = NDManager.newBaseManager(); LanguageModel teacher = LanguageModel.load(teacherDir, m)) {
            UnitScores s = UnitScores.of(MagnitudeMetric.scores(teacher.config(), teacher.weights()).withRunId("magnitude"));
            PrunePlan plan = plan(teacher.config());
            Pruner.Pruned p = Pruner.apply(teacher.config(), teacher.weights(),
                    Pruner.select(teacher.config(), plan, s));
            try (var w = p.weights()) {
                new LanguageModel(p.config(), w, teacher.tokenizerJson(), TensorDType.F32).save(out, TensorDType.F32);
                PruningRecord.write(out, teacher.config(), p.config(), plan, p.keep(), "magnitude", "SmolLM2-135M-Instruct Q4_1 GGUF");
            }
        }
        return out;
    }

    /** Writes the export to args[0] (default ../cache/smollm2-student-export), run from workbench-lib/. */
    public static void main(String[] args) throws Exception {
        Path work = Path.of(args.length > 0 ? args[0] : "../cache/smollm2-student-export");
        Path out = write(work);
        System.out.println("wrote " + out.toAbsolutePath() + ": " + ModelConfig.load(out));
    }
}
