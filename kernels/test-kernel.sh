#!/usr/bin/env bash
# End-to-end check of the Java kernel with a real Jupyter:
#   1. a throwaway venv with the pinned kernels/requirements-jupyter.txt (created if missing);
#   2. kernels/install.sh --prefix VENV (builds the kernel, installs kernel "java" into the venv);
#   3. `jupyter nbconvert --execute` of kernels/src/test/notebooks/smoke.ipynb, headless, and a check of
#      every cell's outputs (compute, state, Tablesaw HTML, streamed display updates, DJL, PNG, magics,
#      a clear compile error, recovery);
#   4. protocol checks: interrupt, completion, inspection, is_complete.
# Fails (non-zero) if a cell errors unexpectedly or an expected output is missing.
#
# Environment: VENV (default /work/venv-jupyter, or $TMPDIR/minitron-venv-jupyter where /work is absent),
#              PYTHON (default python3), SKIP_BUILD=1 (reuse kernels/target), MVN_ARGS (e.g. -o).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
default_venv=/work/venv-jupyter
[[ -d /work && -w /work ]] || default_venv="${TMPDIR:-/tmp}/minitron-venv-jupyter"
venv="${VENV:-$default_venv}"
python="${PYTHON:-python3}"
req="$here/requirements-jupyter.txt"
t_start=$SECONDS

# ---- 1. venv ---------------------------------------------------------------------------------------------------
stamp="$venv/.minitron-requirements"
if [[ ! -x "$venv/bin/python" ]] || ! cmp -s "$req" "$stamp"; then
  echo "== creating venv $venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req"
  cp "$req" "$stamp"
fi
export PATH="$venv/bin:$PATH"
# Keep the user's own Jupyter config and kernels out of the test: only the venv's.
export JUPYTER_PATH="$venv/share/jupyter" JUPYTER_DATA_DIR="$venv/share/jupyter" JUPYTER_CONFIG_DIR="$venv/etc/jupyter"
export JUPYTER_PLATFORM_DIRS=1 JUPYTER_RUNTIME_DIR="${TMPDIR:-/tmp}/minitron-jupyter-runtime-$$"

# ---- 2. install ------------------------------------------------------------------------------------------------
echo "== installing the kernel into $venv"
install_args=(--prefix "$venv")
[[ "${SKIP_BUILD:-0}" == 1 ]] && install_args+=(--skip-build)
"$here/install.sh" "${install_args[@]}"
jupyter kernelspec list | grep -q '^ *java ' || { echo "kernel 'java' not listed by jupyter kernelspec list" >&2; exit 1; }

# ---- 3. notebook -----------------------------------------------------------------------------------------------
out="$(mktemp -d)"
trap 'rm -rf "$out" "$JUPYTER_RUNTIME_DIR"' EXIT
echo "== executing smoke.ipynb headless (jupyter nbconvert --execute)"
t0=$SECONDS
# cells tagged raises-exception may error; any other error fails nbconvert.
jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=180 \
  --ExecutePreprocessor.kernel_name=java --output-dir "$out" --output smoke.executed.ipynb \
  "$here/src/test/notebooks/smoke.ipynb"
echo "   executed in $((SECONDS - t0)) s"
"$venv/bin/python" "$here/src/test/python/check_notebook.py" "$out/smoke.executed.ipynb"

# ---- 3b. the walkthrough notebooks (notebooks/*.ipynb), headless: any cell error fails ---------------------------
for nb in "$here"/../notebooks/*.ipynb; do
  [[ -e "$nb" ]] || continue
  name="$(basename "$nb" .ipynb)"
  echo "== executing notebooks/$name.ipynb headless"
  t0=$SECONDS
  (cd "$(dirname "$nb")" && jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=600 \
    --ExecutePreprocessor.kernel_name=java --output-dir "$out" --output "$name.executed.ipynb" "$nb")
  echo "   executed in $((SECONDS - t0)) s"
done

# ---- 4. protocol -----------------------------------------------------------------------------------------------
echo "== protocol checks"
"$venv/bin/python" "$here/src/test/python/check_protocol.py" java

echo "== kernel end-to-end checks passed in $((SECONDS - t_start)) s"
