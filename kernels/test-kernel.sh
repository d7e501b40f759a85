#!/usr/bin/env bash
# End-to-end check of the Java kernel with a real Jupyter:
#   1. a throwaway venv with the pinned kernels/requirements-jupyter.txt (created if missing);
#   2. kernels/install.sh --prefix VENV (builds the kernel, installs kernel "java" into the venv);
#   (1 and 2 live in kernels/jupyter-env.sh, shared with the walkthrough, tools/walkthrough.sh)
#   3. `jupyter nbconvert --execute` of kernels/src/test/notebooks/smoke.ipynb, headless, and a check of
#      every cell's outputs (compute, state, Tablesaw HTML, streamed display updates, DJL, PNG, magics,
#      a clear compile error, recovery);
#   3b. the walkthrough notebooks (notebooks/*.ipynb): committed without outputs (checked), then executed
#      headless with MINITRON_BUDGET=test and a temporary MINITRON_OUT (kernels/run_notebooks.py), their outputs
#      checked (whole lines, no object identities, no INFO logging: run_notebooks.py --check-outputs, itself
#      proven on planted bad notebooks by src/test/python/test_output_check.py) and exported to HTML with the
#      math renderer inlined (tools/fetch-mathjax.sh);
#   3c. every HTML export opened in headless Chromium, offline: formulas typeset, images loaded
#      (src/test/python/check_html.py); executed notebooks, HTML and one screenshot each are kept in
#      kernels/target/notebooks/;
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
t_start=$SECONDS

# ---- 1. venv, 2. install (kernels/jupyter-env.sh: shared with tools/walkthrough.sh) ----------------------------
# shellcheck source=jupyter-env.sh
source "$here/jupyter-env.sh"
jupyter_venv "$venv"
# One PyTorch thread: the notebooks' tensors are tiny, and on a shared CI machine two spinning threads per JVM
# cost far more than they gain.
install_args=(--jvm-opts "-Dai.djl.pytorch.num_threads=1")
[[ "${SKIP_BUILD:-0}" == 1 ]] && install_args+=(--skip-build)
jupyter_install_kernel "${install_args[@]}"

echo "== the output check fails on planted bad notebooks"
"$JUPYTER_VENV/bin/python" "$here/src/test/python/test_output_check.py"

echo "== the notebook runner fails a silent cell promptly, never a slow one that shows progress, and resumes"
"$JUPYTER_VENV/bin/python" "$here/src/test/python/test_no_progress.py"

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

# ---- 3b. the walkthrough notebooks (notebooks/*.ipynb) -----------------------------------------------------------
# Committed without outputs; executed headless with the tiny `test` budget into a temporary output folder; any cell
# error fails. kernels/run_notebooks.py echoes their progress and prints each notebook's time.
notebooks=("$here"/../notebooks/*.ipynb)
if [[ -e "${notebooks[0]}" ]]; then
  echo "== checking that the committed notebooks hold no outputs"
  "$JUPYTER_VENV/bin/python" "$here/run_notebooks.py" --check-stripped "${notebooks[@]}"
  mathjax="$("$here/../tools/fetch-mathjax.sh")"
  executed="$here/target/notebooks"
  rm -rf "$executed"
  echo "== executing ${#notebooks[@]} notebooks headless (MINITRON_BUDGET=test), checking their outputs, exporting HTML"
  MINITRON_BUDGET=test MINITRON_OUT="$out/walkthrough" \
    "$JUPYTER_VENV/bin/python" "$here/run_notebooks.py" --no-progress-timeout 600 --out-dir "$executed" \
      --check-outputs --html --mathjax "$mathjax" "${notebooks[@]}"
  # ---- 3c. the HTML exports in a real browser, offline ----------------------------------------------------------
  echo "== opening the HTML exports in headless Chromium (offline)"
  t0=$SECONDS
  "$JUPYTER_VENV/bin/python" "$here/src/test/python/check_html.py" --screenshots "$executed" "$executed"/*.html
  echo "   checked in $((SECONDS - t0)) s; notebooks, HTML and screenshots in $executed"
fi

# ---- 4. protocol -----------------------------------------------------------------------------------------------
echo "== protocol checks"
"$venv/bin/python" "$here/src/test/python/check_protocol.py" java

echo "== kernel end-to-end checks passed in $((SECONDS - t_start)) s"
