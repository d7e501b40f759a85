#!/usr/bin/env python3
"""Record Hugging Face transformers' logits for the committed pruned export (the pruned-export fixture).

The export itself is written by Java, deterministically, from the committed golden parent
``golden/llama_gqa_untied`` (pruned along hidden size, query heads per KV group, MLP and depth at once, ranked
by weight magnitude; see ai.minitron.prune.PrunedExportFixture):

    cd workbench-lib && mvn -o -q test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
    java --add-opens=java.base/java.nio=ALL-UNNAMED -Dai.djl.offline=true \\
        -cp "target/test-classes:target/classes:$(cat /tmp/cp.txt)" ai.minitron.prune.PrunedExportFixture

This script then loads that export with ``AutoModelForCausalLM.from_pretrained(dir, dtype=torch.float32,
attn_implementation="eager")`` -- i.e. exactly as a user of the pruned checkpoint would -- and writes, next to it:

    transformers_logits.safetensors   input_ids (I64 [B,T]) and logits (F32 [B,T,V]) for fixed token ids
    manifest.json                     versions, inputs, transformers' parameter count, sha256 of every file

The Java test PrunedExportParityTest re-prunes the parent and checks every tensor equals the committed export,
then loads the export with our loader and checks its logits against these within 1e-4. No padding: every row is
a full sequence. Never run in CI (pins: tools/requirements-fixtures.txt).

Usage:  python tools/make_pruned_export_fixture.py [--dir DIR] [--seed N]
"""

import argparse
import hashlib
import json
import platform
import sys
from pathlib import Path

import safetensors
import torch
import transformers
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIR = REPO_ROOT / "workbench-lib" / "src" / "test" / "resources" / "golden" / "pruned_export"
DEFAULT_SEED = 20240714
BATCH, SEQ = 2, 9
MAX_BYTES = 300 * 1024


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", type=Path, default=DEFAULT_DIR, help=f"fixture directory (default {DEFAULT_DIR})")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"seed of the token ids (default {DEFAULT_SEED})")
    args = ap.parse_args(argv)

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    transformers.logging.set_verbosity_error()

    model_dir = args.dir / "model"
    if not (model_dir / "config.json").is_file():
        print(f"ERROR: no export in {model_dir}: run ai.minitron.prune.PrunedExportFixture first", file=sys.stderr)
        return 1
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    cfg = model.config
    input_ids = torch.randint(0, cfg.vocab_size, (BATCH, SEQ), generator=torch.Generator().manual_seed(args.seed),
                              dtype=torch.int64)
    with torch.no_grad():
        logits = model(input_ids=input_ids, use_cache=False).logits.float().contiguous()
    assert logits.shape == (BATCH, SEQ, cfg.vocab_size) and torch.isfinite(logits).all()

    out = args.dir / "transformers_logits.safetensors"
    save_file(dict(input_ids=input_ids.contiguous(), logits=logits), str(out),
              metadata={"pruned_export": json.dumps(dict(transformers=transformers.__version__, torch=torch.__version__,
                                                         attn_implementation="eager", compute_dtype="float32"),
                                                    sort_keys=True)})

    files = sorted(p for p in args.dir.rglob("*") if p.is_file() and p.name != "manifest.json")
    manifest = dict(
        description="Pruned-export fixture: a Java-pruned checkpoint of golden/llama_gqa_untied and transformers' "
                    "logits for it (tools/make_pruned_export_fixture.py; never run in CI).",
        generator="tools/make_pruned_export_fixture.py",
        export_writer="ai.minitron.prune.PrunedExportFixture (test sources)",
        seed=args.seed,
        inputs=dict(batch=BATCH, seq_len=SEQ, token_ids="uniform random in [0, vocab), no padding"),
        reference=dict(load="AutoModelForCausalLM.from_pretrained(model, dtype=torch.float32, "
                            "attn_implementation='eager')", mode="model.eval(), torch.no_grad()"),
        architecture=cfg.architectures[0],
        hidden_size=cfg.hidden_size, num_hidden_layers=cfg.num_hidden_layers,
        num_attention_heads=cfg.num_attention_heads, num_key_value_heads=cfg.num_key_value_heads,
        head_dim=cfg.head_dim, intermediate_size=cfg.intermediate_size, vocab_size=cfg.vocab_size,
        total_parameters=sum(p.numel() for p in model.parameters()),
        versions=dict(python=platform.python_version(), torch=torch.__version__,
                      transformers=transformers.__version__, safetensors=safetensors.__version__),
        files={str(p.relative_to(args.dir)): dict(bytes=p.stat().st_size, sha256=sha256(p)) for p in files},
    )
    with open(args.dir / "manifest.json", "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    total = sum(p.stat().st_size for p in args.dir.rglob("*") if p.is_file())
    print(f"{model_dir}: {manifest['total_parameters']} parameters; logits {tuple(logits.shape)}; "
          f"fixture {total} bytes")
    if total > MAX_BYTES:
        print(f"ERROR: fixture exceeds {MAX_BYTES} bytes", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
