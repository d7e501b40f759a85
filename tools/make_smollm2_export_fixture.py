#!/usr/bin/env python3
"""Record Hugging Face transformers' logits for the case study's SmolLM2 width student (the SmolLM2 export fixture).

The export is written by Java, deterministically, from the pinned SmolLM2-135M GGUF (pruned to the case study's
width-student shape, ranked by weight magnitude; see ai.minitron.reproduce.SmolLM2ExportFixture). It is ~330 MB,
so it is not committed; the fixture stores its SHA-256 and, per transformers version, what transformers computes:

    cd workbench-lib && mvn -o -q test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
    java --add-opens=java.base/java.nio=ALL-UNNAMED -Dai.djl.offline=true \\
        -cp "target/test-classes:target/classes:$(cat /tmp/cp.txt)" ai.minitron.reproduce.SmolLM2ExportFixture
    cache/venv-fixtures/bin/python   tools/make_smollm2_export_fixture.py   # transformers 4.57.1 (requirements-fixtures.txt)
    cache/venv-fixtures-5/bin/python tools/make_smollm2_export_fixture.py   # transformers 5.x (requirements-fixtures-5.txt)

Each run loads the export with ``AutoModelForCausalLM.from_pretrained(dir, dtype=torch.float32,
attn_implementation="eager")`` -- exactly as a user of the exported student would -- and writes
``transformers-VERSION.safetensors`` (input_ids I64 [B,T]; logsumexp F32 [B,T] over the whole vocabulary, summed in float64;
argmax I64 [B,T]; columns I64 [K], K fixed vocabulary ids; logits_columns F32 [B,T,K]; and the same model loaded
with ``dtype=torch.float64`` and computed in float64 throughout (see ``float64_throughout``): logsumexp_f64 F64 [B,T], columns_f64 I64 [K64] (the first K64 of columns) and
logits_columns_f64 F64 [B,T,K64]) and adds the version to manifest.json, with how far transformers' own float32
logits are from its float64 ones (``float32_vs_float64_max_abs``). SmolLM2ExportParityTest re-makes the export, checks its SHA-256, and compares our logits with
every recorded version (float32 against float32, float64 against float64). Never run in CI.

Usage:  python tools/make_smollm2_export_fixture.py [--export DIR] [--dir FIXTURE_DIR]
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
DEFAULT_EXPORT = REPO_ROOT / "cache" / "smollm2-student-export" / "student"
DEFAULT_DIR = REPO_ROOT / "workbench-lib" / "src" / "test" / "resources" / "golden" / "smollm2_student"
SEED = 20241207
BATCH, SEQ, COLUMNS = 2, 12, 2048
COLUMNS_F64 = 256
MAX_BYTES = 600 * 1024


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def float64_throughout() -> None:
    """Makes Llama compute in the model's dtype everywhere. transformers deliberately runs RMSNorm, the rotary
    angles and the eager softmax in float32 whatever the model's dtype, so a float64 model is not a float64
    reference; these replacements (written here, same formulas) keep every step in the input's dtype."""
    from transformers.models.llama import modeling_llama as ml

    def rms_norm(self, h):
        return self.weight * (h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.variance_epsilon))

    def rotary(self, x, position_ids):
        cfg = self.config
        params = getattr(cfg, "rope_parameters", None) or {}
        theta = params.get("rope_theta", getattr(cfg, "rope_theta", None))
        dim = 2 * self.inv_freq.shape[-1]
        inv_freq = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
        angles = position_ids[..., None].to(torch.float64) * inv_freq  # [B,T,dim/2]
        emb = torch.cat((angles, angles), dim=-1)
        return emb.cos().to(x.dtype), emb.sin().to(x.dtype)

    def attention(module, q, k, v, mask, scaling, dropout=0.0, **kwargs):  # q [B,H,T,D], k v [B,KV,T,D]
        group = q.shape[1] // k.shape[1]
        k = k.repeat_interleave(group, dim=1)
        v = v.repeat_interleave(group, dim=1)
        scores = (q @ k.transpose(2, 3)) * scaling  # [B,H,T,T]
        if mask is not None:
            if mask.dtype == torch.bool:
                scores = scores.masked_fill(~mask[:, :, :, : k.shape[-2]], float("-inf"))
            else:
                scores = scores + mask[:, :, :, : k.shape[-2]]
        weights = torch.softmax(scores, dim=-1)
        return (weights @ v).transpose(1, 2).contiguous(), weights

    ml.LlamaRMSNorm.forward = rms_norm
    ml.LlamaRotaryEmbedding.forward = rotary
    ml.eager_attention_forward = attention


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--export", type=Path, default=DEFAULT_EXPORT, help=f"the Java export (default {DEFAULT_EXPORT})")
    ap.add_argument("--dir", type=Path, default=DEFAULT_DIR, help=f"fixture directory (default {DEFAULT_DIR})")
    args = ap.parse_args(argv)
    if not (args.export / "config.json").is_file():
        print(f"ERROR: no export in {args.export}: run ai.minitron.reproduce.SmolLM2ExportFixture first", file=sys.stderr)
        return 1
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    transformers.logging.set_verbosity_error()
    model = AutoModelForCausalLM.from_pretrained(args.export, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    cfg = model.config
    gen = torch.Generator().manual_seed(SEED)
    input_ids = torch.randint(0, cfg.vocab_size, (BATCH, SEQ), generator=gen, dtype=torch.int64)
    columns = torch.randperm(cfg.vocab_size, generator=gen)[:COLUMNS].sort().values
    with torch.no_grad():
        logits = model(input_ids=input_ids, use_cache=False).logits.float()
    assert logits.shape == (BATCH, SEQ, cfg.vocab_size) and torch.isfinite(logits).all()
    # the same model computed in float64 throughout: the reference both float32 implementations are measured against
    float64_throughout()
    model64 = AutoModelForCausalLM.from_pretrained(args.export, dtype=torch.float64, attn_implementation="eager")
    model64.eval()
    with torch.no_grad():
        logits64 = model64(input_ids=input_ids, use_cache=False).logits
    columns64 = columns[:COLUMNS_F64].clone()
    gap32 = (logits.double()[:, :, columns64] - logits64[:, :, columns64]).abs().max().item()
    version = transformers.__version__
    name = f"transformers-{version}.safetensors"
    args.dir.mkdir(parents=True, exist_ok=True)
    save_file(dict(input_ids=input_ids.contiguous(), logsumexp=torch.logsumexp(logits.double(), -1).float().contiguous(),
                   argmax=logits.argmax(-1).contiguous(), columns=columns.contiguous(),
                   logits_columns=logits[:, :, columns].contiguous(),
                   logsumexp_f64=torch.logsumexp(logits64, -1).contiguous(), columns_f64=columns64.contiguous(),
                   logits_columns_f64=logits64[:, :, columns64].contiguous()),
              str(args.dir / name),
              metadata={"reference": json.dumps(dict(transformers=version, torch=torch.__version__,
                                                     attn_implementation="eager", compute_dtype="float32"))})

    mpath = args.dir / "manifest.json"
    manifest = json.loads(mpath.read_text()) if mpath.is_file() else {}
    model_sha = sha256(args.export / "model.safetensors")
    if manifest.get("model_sha256") not in (None, model_sha):
        print("note: the export changed since the last recorded version; earlier references are dropped", file=sys.stderr)
        for old in manifest.get("references", {}).values():
            (args.dir / old["file"]).unlink(missing_ok=True)
        manifest["references"] = {}
    manifest.update(
        description="SmolLM2 student export fixture: the case study's width-student shape cut from the pinned "
                    "SmolLM2-135M GGUF by weight magnitude (ai.minitron.reproduce.SmolLM2ExportFixture) and what "
                    "transformers computes for it, per version (tools/make_smollm2_export_fixture.py; never run in CI).",
        model_sha256=model_sha,
        architecture=cfg.architectures[0], hidden_size=cfg.hidden_size, num_hidden_layers=cfg.num_hidden_layers,
        num_attention_heads=cfg.num_attention_heads, num_key_value_heads=cfg.num_key_value_heads,
        head_dim=cfg.head_dim, intermediate_size=cfg.intermediate_size, vocab_size=cfg.vocab_size,
        total_parameters=sum(p.numel() for p in model.parameters()),
        inputs=dict(batch=BATCH, seq_len=SEQ, seed=SEED, token_ids="uniform random in [0, vocab), no padding",
                    columns=f"{COLUMNS} vocabulary ids, a seeded random permutation's first {COLUMNS}, sorted"),
    )
    manifest.setdefault("references", {})[version] = dict(
        file=name, sha256=sha256(args.dir / name),
        float32_vs_float64_max_abs=gap32,
        load="AutoModelForCausalLM.from_pretrained(dir, dtype=torch.float32, attn_implementation='eager')",
        versions=dict(python=platform.python_version(), torch=torch.__version__, transformers=version,
                      safetensors=safetensors.__version__))
    mpath.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    total = sum(p.stat().st_size for p in args.dir.rglob("*") if p.is_file())
    print(f"transformers {version}: {args.export} loads ({manifest['total_parameters']} parameters, hidden "
          f"{cfg.hidden_size}, {cfg.num_attention_heads} heads); references {sorted(manifest['references'])}; "
          f"fixture {total} bytes")
    return 0 if total <= MAX_BYTES else 1


if __name__ == "__main__":
    sys.exit(main())
