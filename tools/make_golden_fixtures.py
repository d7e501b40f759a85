#!/usr/bin/env python3
"""Generate the golden reference fixtures used by the Java forward-pass tests.

For every fixture a tiny, randomly initialised Hugging Face causal LM is built from a config (nothing is
downloaded from any model hub), saved with ``save_pretrained(..., safe_serialization=True)`` and run through
transformers in float32 with ``attn_implementation="eager"`` to produce reference logits.

Output (default ``workbench-lib/src/test/resources/golden/``)::

    manifest.json                      fixtures, features, versions, seed, file sizes + sha256
    <name>/config.json                 save_pretrained output
    <name>/generation_config.json      save_pretrained output (not needed by the tests)
    <name>/model.safetensors           or model-0000k-of-0000n.safetensors + model.safetensors.index.json
    <name>/reference.safetensors       input_ids, attention_mask, position_ids (I64 [B,T]), logits (F32 [B,T,V])
    <name>/expected_params.json        parameter count + per-tensor shapes

Inputs: B=3, T=7. Row 0 is unpadded, row 1 is RIGHT-padded (last 2 positions masked), row 2 is LEFT-padded
(first 3 positions masked). Padded positions hold token id 0, real tokens are drawn from [1, vocab).
position_ids = clamp(cumsum(attention_mask) - 1, min=0) and are passed explicitly together with the mask.

Reference logits are always computed from the files on disk: the saved checkpoint is reloaded with
``AutoModelForCausalLM.from_pretrained(dir, dtype=torch.float32, attn_implementation="eager")``, so for the
BF16/F16 fixtures the reference is exact float32 math on the rounded (then upcast) weights.

Every weight is re-initialised after construction so that no parameter is zero or one (HF zero-inits biases and
one-inits norm weights, which would hide norm/bias handling bugs):
    Linear / Embedding weights   N(0, 0.2)
    Linear biases                N(0, 0.1)
    RMSNorm weights              1 + N(0, 0.1)
    Nemotron LayerNorm1P weight  N(0, 0.1)   (the module adds 1 itself)
    Nemotron LayerNorm1P bias    N(0, 0.1)

This is a developer tool: it is never run in CI. See tools/README.md.
Usage:  python tools/make_golden_fixtures.py [--out DIR] [--seed N]
"""

import argparse
import hashlib
import json
import platform
import shutil
import sys
from pathlib import Path

import huggingface_hub
import numpy
import safetensors
import torch
import transformers
from safetensors.torch import load_file, save_file
from torch import nn
from transformers import (
    AutoModelForCausalLM,
    LlamaConfig,
    LlamaForCausalLM,
    MistralConfig,
    MistralForCausalLM,
    NemotronConfig,
    NemotronForCausalLM,
    Qwen2Config,
    Qwen2ForCausalLM,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "workbench-lib" / "src" / "test" / "resources" / "golden"
DEFAULT_SEED = 20240607
BATCH, SEQ = 3, 7
RIGHT_PAD, LEFT_PAD = 2, 3
PAD_ID = 0
MAX_TOTAL_BYTES = 5 * 1024 * 1024

# Common, deliberately small, config values. max_position_embeddings only matters for cache sizing; default RoPE.
COMMON = dict(max_position_embeddings=64, initializer_range=0.02, attention_dropout=0.0, use_cache=False)


def fixture_specs():
    """Each spec: name, model class, config, saved dtype, max_shard_size (None = single file), features."""
    return [
        dict(
            name="llama_gqa_untied",
            cls=LlamaForCausalLM,
            config=LlamaConfig(
                vocab_size=128, hidden_size=48, num_hidden_layers=2, num_attention_heads=4,
                num_key_value_heads=2, head_dim=16, intermediate_size=80, rope_theta=10000.0,
                rms_norm_eps=1e-5, tie_word_embeddings=False, hidden_act="silu", **COMMON),
            dtype=torch.float32,
            shard=None,
            features=["GQA 4 query heads / 2 KV heads",
                      "explicit head_dim 16 != hidden/heads (12): q_proj [64,48], o_proj [48,64]",
                      "untied lm_head", "SwiGLU MLP", "RMSNorm eps 1e-5", "rope_theta 1e4"],
        ),
        dict(
            name="llama_tied_bf16",
            cls=LlamaForCausalLM,
            config=LlamaConfig(
                vocab_size=96, hidden_size=32, num_hidden_layers=2, num_attention_heads=6,
                num_key_value_heads=2, head_dim=8, intermediate_size=64, rope_theta=500000.0,
                rms_norm_eps=1e-6, tie_word_embeddings=True, hidden_act="silu", **COMMON),
            dtype=torch.bfloat16,
            shard=None,
            features=["saved in BF16; reference = f32 math on bf16-rounded weights",
                      "tied word embeddings (no lm_head.weight in the checkpoint)",
                      "GQA 6 query heads / 2 KV heads (3 per group)",
                      "num_heads*head_dim (48) != hidden (32)", "rope_theta 5e5", "RMSNorm eps 1e-6"],
        ),
        dict(
            name="mistral_sharded",
            cls=MistralForCausalLM,
            config=MistralConfig(
                vocab_size=160, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                num_key_value_heads=1, head_dim=16, intermediate_size=128, rope_theta=1000000.0,
                rms_norm_eps=1e-5, tie_word_embeddings=False, sliding_window=None, hidden_act="silu",
                **COMMON),
            dtype=torch.float32,
            shard="100KB",
            features=["sharded safetensors + model.safetensors.index.json",
                      "MQA: 4 query heads / 1 KV head", "sliding_window null", "rope_theta 1e6",
                      "untied lm_head"],
        ),
        dict(
            name="qwen2_bias",
            cls=Qwen2ForCausalLM,
            config=Qwen2Config(
                vocab_size=112, hidden_size=48, num_hidden_layers=2, num_attention_heads=6,
                num_key_value_heads=2, head_dim=8, intermediate_size=96, rope_theta=1000000.0,
                rms_norm_eps=1e-6, tie_word_embeddings=False, use_sliding_window=False,
                hidden_act="silu", **COMMON),
            dtype=torch.float32,
            shard=None,
            features=["q/k/v projection biases (random, non-zero); o_proj has no bias",
                      "GQA 6 query heads / 2 KV heads", "use_sliding_window false", "untied lm_head",
                      "rope_theta 1e6", "RMSNorm eps 1e-6"],
        ),
        dict(
            name="nemotron_partial_rotary",
            cls=NemotronForCausalLM,
            config=NemotronConfig(
                vocab_size=128, hidden_size=48, num_hidden_layers=2, num_attention_heads=4,
                num_key_value_heads=2, head_dim=16, intermediate_size=96, rope_theta=10000.0,
                norm_eps=1e-5, partial_rotary_factor=0.5, hidden_act="relu2", tie_word_embeddings=False,
                attention_bias=False, mlp_bias=False, **COMMON),
            dtype=torch.float32,
            shard=None,
            features=["LayerNorm1P norms (weight+1, with bias; mean-subtracting LayerNorm)",
                      "non-gated MLP: down(relu(up(x))^2), no gate_proj",
                      "partial_rotary_factor 0.5: RoPE on the first 8 of 16 head dims",
                      "explicit head_dim 16 != hidden/heads (12)", "GQA 4 query heads / 2 KV heads",
                      "untied lm_head"],
        ),
        dict(
            name="llama_f16_bias",
            cls=LlamaForCausalLM,
            config=LlamaConfig(
                vocab_size=80, hidden_size=32, num_hidden_layers=1, num_attention_heads=4,
                num_key_value_heads=2, head_dim=8, intermediate_size=48, rope_theta=10000.0,
                rms_norm_eps=1e-5, tie_word_embeddings=False, attention_bias=True, mlp_bias=True,
                hidden_act="silu", **COMMON),
            dtype=torch.float16,
            shard=None,
            features=["saved in F16; reference = f32 math on f16-rounded weights",
                      "attention_bias true: q/k/v AND o_proj biases", "mlp_bias true: gate/up/down biases",
                      "1 layer", "GQA 4 query heads / 2 KV heads", "untied lm_head"],
        ),
    ]


# ---------------------------------------------------------------------------------------------------------------
# weights


def reinit_(model: nn.Module, generator: torch.Generator) -> None:
    """Re-initialise every parameter (see module docstring). Fails on parameters of an unknown module type."""
    seen = set()
    with torch.no_grad():
        for mod_name, module in model.named_modules():
            kind = type(module).__name__
            for p_name, p in module.named_parameters(recurse=False):
                if id(p) in seen:  # tied lm_head.weight is the embedding tensor
                    continue
                seen.add(id(p))
                full = f"{mod_name}.{p_name}"
                if isinstance(module, (nn.Linear, nn.Embedding)):
                    std = 0.2 if p_name == "weight" else 0.1
                    p.copy_(torch.randn(p.shape, generator=generator) * std)
                elif kind.endswith("RMSNorm") and p_name == "weight":
                    p.copy_(1.0 + torch.randn(p.shape, generator=generator) * 0.1)
                elif kind == "NemotronLayerNorm1P" and p_name in ("weight", "bias"):
                    p.copy_(torch.randn(p.shape, generator=generator) * 0.1)
                else:
                    raise RuntimeError(f"no init rule for parameter {full} of module type {kind}")
    for name, p in model.named_parameters():
        if bool((p == 0).all()) or bool((p == 1).all()):
            raise RuntimeError(f"parameter {name} is still constant after re-init")


def make_inputs(vocab: int, generator: torch.Generator):
    input_ids = torch.randint(1, vocab, (BATCH, SEQ), generator=generator, dtype=torch.int64)
    attention_mask = torch.ones(BATCH, SEQ, dtype=torch.int64)
    attention_mask[1, SEQ - RIGHT_PAD:] = 0  # row 1: right padding
    attention_mask[2, :LEFT_PAD] = 0  # row 2: left padding
    input_ids = input_ids.masked_fill(attention_mask == 0, PAD_ID)
    position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
    return input_ids, attention_mask, position_ids


@torch.no_grad()
def forward_logits(model, input_ids, attention_mask, position_ids) -> torch.Tensor:
    out = model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids, use_cache=False)
    return out.logits.float().contiguous()


def load_f32(path: Path):
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    return model


# ---------------------------------------------------------------------------------------------------------------
# files


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def weight_files(folder: Path):
    return sorted(p for p in folder.iterdir() if p.name.startswith("model") and p.suffix == ".safetensors")


def saved_tensor_map(folder: Path):
    """name -> {shape, dtype, file} for every tensor actually stored in the checkpoint."""
    from safetensors import safe_open

    result = {}
    for f in weight_files(folder):
        with safe_open(str(f), framework="pt") as sf:
            for k in sf.keys():
                sl = sf.get_slice(k)
                result[k] = dict(shape=list(sl.get_shape()), dtype=sl.get_dtype(), file=f.name)
    return dict(sorted(result.items()))


def write_json(path: Path, obj) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, sort_keys=False)
        f.write("\n")


# ---------------------------------------------------------------------------------------------------------------
# one fixture


def build_fixture(spec: dict, index: int, seed: int, out: Path) -> dict:
    name, cls, config, dtype = spec["name"], spec["cls"], spec["config"], spec["dtype"]
    folder = out / name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)

    fixture_seed = seed + 1000 * index
    torch.manual_seed(fixture_seed)
    config._attn_implementation = "eager"
    model = cls(config)
    reinit_(model, torch.Generator().manual_seed(fixture_seed + 1))
    model.eval()
    tied = model.get_output_embeddings().weight is model.get_input_embeddings().weight
    assert tied == bool(config.tie_word_embeddings), name

    input_ids, attention_mask, position_ids = make_inputs(config.vocab_size,
                                                          torch.Generator().manual_seed(fixture_seed + 2))
    logits_in_memory_f32 = forward_logits(model, input_ids, attention_mask, position_ids)

    # parameter accounting (on the in-memory model; parameters() de-duplicates tied tensors)
    n_params = sum(p.numel() for p in model.parameters())
    param_shapes = {k: list(p.shape) for k, p in model.named_parameters()}  # de-duplicated, like parameters()
    state_shapes = {k: list(v.shape) for k, v in model.state_dict().items()}  # includes tied lm_head.weight

    # save in the target dtype
    model = model.to(dtype)
    save_kwargs = dict(safe_serialization=True)
    if spec["shard"]:
        save_kwargs["max_shard_size"] = spec["shard"]
    model.save_pretrained(folder, **save_kwargs)
    files = weight_files(folder)
    sharded = (folder / "model.safetensors.index.json").exists()
    if spec["shard"] and (not sharded or len(files) < 2):
        raise RuntimeError(f"{name}: expected >= 2 shards, got {[f.name for f in files]}")
    if not spec["shard"] and sharded:
        raise RuntimeError(f"{name}: unexpectedly sharded")
    del model

    # reference logits: reload from disk, upcast to f32, eager attention
    ref_model = load_f32(folder)
    logits = forward_logits(ref_model, input_ids, attention_mask, position_ids)
    assert logits.shape == (BATCH, SEQ, config.vocab_size) and logits.dtype == torch.float32
    assert torch.isfinite(logits).all(), name
    if dtype == torch.float32:
        # the on-disk f32 checkpoint must reproduce the in-memory model bit for bit
        if not torch.equal(logits, logits_in_memory_f32):
            raise RuntimeError(f"{name}: reloaded f32 logits differ from in-memory logits")
    rounding_effect = float((logits - logits_in_memory_f32).abs().max())

    save_file(
        dict(input_ids=input_ids.contiguous(), attention_mask=attention_mask.contiguous(),
             position_ids=position_ids.contiguous(), logits=logits),
        str(folder / "reference.safetensors"),
        # a single metadata key: safetensors serialises the metadata map in hash order, so several keys would
        # make the file bytes differ from run to run
        metadata={"golden": json.dumps(dict(fixture=name, transformers=transformers.__version__,
                                            torch=torch.__version__, attn_implementation="eager",
                                            compute_dtype="float32"), sort_keys=True)},
    )

    saved = saved_tensor_map(folder)
    write_json(folder / "expected_params.json", dict(
        name=name,
        architecture=cls.__name__,
        total_parameters=n_params,
        total_parameters_note="sum(p.numel() for p in model.parameters()); tied tensors counted once",
        tied_word_embeddings=tied,
        parameters=param_shapes,
        state_dict=state_shapes,
        saved_tensors=saved,
        saved_tensor_count=len(saved),
    ))

    return dict(
        name=name,
        architecture=cls.__name__,
        model_type=config.model_type,
        dtype_saved=str(dtype).replace("torch.", ""),
        sharded=sharded,
        weight_files=[f.name for f in files],
        tied_word_embeddings=tied,
        vocab_size=config.vocab_size,
        hidden_size=config.hidden_size,
        num_hidden_layers=config.num_hidden_layers,
        num_attention_heads=config.num_attention_heads,
        num_key_value_heads=config.num_key_value_heads,
        head_dim=config.head_dim,
        total_parameters=n_params,
        fixture_seed=fixture_seed,
        features=spec["features"],
        max_abs_logit=float(logits.abs().max()),
        max_abs_diff_vs_unrounded_f32=rounding_effect,
    )


# ---------------------------------------------------------------------------------------------------------------
# verification (independent of the generation path: only reads files)


def verify(out: Path, manifest: dict) -> None:
    for fx in manifest["fixtures"]:
        folder = out / fx["name"]
        ref = load_file(str(folder / "reference.safetensors"))
        assert ref["input_ids"].dtype == torch.int64 and ref["attention_mask"].dtype == torch.int64
        assert ref["position_ids"].dtype == torch.int64 and ref["logits"].dtype == torch.float32
        model = load_f32(folder)
        assert type(model).__name__ == fx["architecture"], (type(model).__name__, fx["architecture"])
        logits = forward_logits(model, ref["input_ids"], ref["attention_mask"], ref["position_ids"])
        valid = ref["attention_mask"].bool()
        diff_all = float((logits - ref["logits"]).abs().max())
        diff_valid = float((logits - ref["logits"]).abs()[valid].max())
        n_params = sum(p.numel() for p in model.parameters())
        expected = json.loads((folder / "expected_params.json").read_text())
        if n_params != expected["total_parameters"]:
            raise RuntimeError(f"{fx['name']}: parameter count {n_params} != {expected['total_parameters']}")
        if diff_all > 1e-6:
            raise RuntimeError(f"{fx['name']}: reloaded logits differ by {diff_all}")
        fx["verify_max_abs_diff"] = diff_all
        print(f"  verified {fx['name']:<26} reload max|diff| all={diff_all:.3g} valid={diff_valid:.3g} "
              f"params={n_params}")


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT})")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"base seed (default {DEFAULT_SEED})")
    args = ap.parse_args(argv)

    torch.set_num_threads(1)  # keep float reductions in a fixed order
    torch.use_deterministic_algorithms(True)
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    specs = fixture_specs()
    known = {s["name"] for s in specs}
    for stale in out.iterdir():  # drop fixture folders (recognised by their reference file) no longer generated
        if stale.is_dir() and stale.name not in known and (stale / "reference.safetensors").is_file():
            shutil.rmtree(stale)

    fixtures = []
    for i, spec in enumerate(specs):
        print(f"building {spec['name']} ...", flush=True)
        fixtures.append(build_fixture(spec, i, args.seed, out))

    manifest = dict(
        description="Golden reference fixtures for the Java forward pass; generated by "
                    "tools/make_golden_fixtures.py (never run in CI).",
        generator="tools/make_golden_fixtures.py",
        seed=args.seed,
        inputs=dict(
            batch=BATCH, seq_len=SEQ, pad_token_id=PAD_ID,
            rows=["row 0: no padding",
                  f"row 1: right-padded, last {RIGHT_PAD} positions attention_mask=0",
                  f"row 2: left-padded, first {LEFT_PAD} positions attention_mask=0"],
            position_ids="clamp(cumsum(attention_mask, -1) - 1, min=0), passed explicitly",
            token_ids="uniform random in [1, vocab); padded positions hold pad_token_id",
        ),
        reference=dict(
            attn_implementation="eager", compute_dtype="float32", mode="model.eval(), torch.no_grad()",
            load="AutoModelForCausalLM.from_pretrained(dir, dtype=torch.float32) - reduced-precision "
                 "checkpoints are upcast, so the reference is exact f32 math on the rounded weights",
            masked_positions="logits at attention_mask=0 positions are stored but are not meaningful",
        ),
        init=dict(linear_and_embedding_weight="N(0, 0.2)", bias="N(0, 0.1)", rms_norm_weight="1 + N(0, 0.1)",
                  nemotron_layernorm1p_weight="N(0, 0.1) (module adds 1)", nemotron_layernorm1p_bias="N(0, 0.1)"),
        versions=dict(python=platform.python_version(), torch=torch.__version__,
                      transformers=transformers.__version__, safetensors=safetensors.__version__,
                      numpy=numpy.__version__,
                      huggingface_hub=huggingface_hub.__version__),  # it decides the shard layout
        fixtures=fixtures,
    )

    print("verifying (reload with AutoModelForCausalLM.from_pretrained) ...", flush=True)
    verify(out, manifest)

    total = 0
    for fx in fixtures:
        folder = out / fx["name"]
        fx["files"] = {p.name: dict(bytes=p.stat().st_size, sha256=sha256(p))
                       for p in sorted(folder.iterdir()) if p.is_file()}
        fx["bytes"] = dir_size(folder)
        total += fx["bytes"]
    manifest["total_bytes"] = total
    write_json(out / "manifest.json", manifest)
    total = dir_size(out)

    print()
    print(f"{'fixture':<26} {'arch':<22} {'dtype':<9} {'shard':<6} {'tied':<5} {'params':>7} {'bytes':>9}")
    for fx in fixtures:
        print(f"{fx['name']:<26} {fx['architecture']:<22} {fx['dtype_saved']:<9} {str(fx['sharded']):<6} "
              f"{str(fx['tied_word_embeddings']):<5} {fx['total_parameters']:>7} {fx['bytes']:>9}")
    print(f"total on disk (incl. manifest): {total} bytes ({total / 1024 / 1024:.2f} MiB)")
    print("versions:", json.dumps(manifest["versions"]))
    if total >= MAX_TOTAL_BYTES:
        print(f"ERROR: fixtures exceed {MAX_TOTAL_BYTES} bytes", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
