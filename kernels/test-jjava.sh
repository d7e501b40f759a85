#!/usr/bin/env bash
# The walkthrough notebooks (notebooks/*.ipynb) under JJava from PyPI with the workbench's JJava extension, as a
# user who already has JJava would run them (kernels/README.md, "The workbench in JJava and IJava"):
#   1. a venv with the pinned kernels/requirements-jupyter.txt + requirements-jjava.txt (JJava 1.0a8; created if
#      missing or out of date, default cache/venv-jjava);
#   2. a kernel spec "jjava-workbench" in a temporary Jupyter data dir: JJava's own launcher and jar (from the
#      venv's kernel spec "java", left untouched) with JJAVA_CLASSPATH = jjava-extension/target/minitron-jjava/*
#      (the extension jar + the workbench library + its dependencies), JJAVA_JVM_OPTS = our kernel's JVM flags
#      (kernels/target/kernelspec/jvm-flags.txt) and DJL_OFFLINE=true. Our kernel, also named "java", is not
#      visible to this run, and nothing is installed anywhere else;
#   3. every notebook executed once, headless, with MINITRON_BUDGET=test into a temporary MINITRON_OUT, with the same
#      output checks as our kernel's run (run_notebooks.py --check-outputs: whole lines, no object identities, no
#      INFO logging); the executed notebooks are kept in jjava-extension/target/notebooks/;
#   4. if our kernel's executed notebooks are there (kernels/target/notebooks/, from kernels/test-kernel.sh), every
#      cell must have shown the same kinds of output (text, HTML table, PNG chart) in both kernels.
# Run by `mvn verify` in the jjava-extension module (after kernels/test-kernel.sh ran in the kernels module, with
# the extension's jars just built); by hand: `mvn -B package -DskipTests && kernels/test-jjava.sh`.
#
# Environment: JJAVA_VENV (default cache/venv-jjava), PYTHON (default python3), OUT_DIR (default
#              jjava-extension/target/notebooks).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
venv="${JJAVA_VENV:-$root/cache/venv-jjava}"
ext_dir="$root/jjava-extension/target/minitron-jjava"
flags_file="$here/target/kernelspec/jvm-flags.txt"
executed="${OUT_DIR:-$root/jjava-extension/target/notebooks}"
ours="$here/target/notebooks"
t_start=$SECONDS

for f in "$ext_dir/minitron-jjava.jar" "$flags_file"; do
  [[ -f "$f" ]] || { echo "test-jjava.sh: $f is missing: build first (mvn -B package -DskipTests)" >&2; exit 1; }
done

# ---- 1. the venv with JJava ------------------------------------------------------------------------------------
# shellcheck source=jupyter-env.sh
source "$here/jupyter-env.sh"
mkdir -p "$(dirname "$venv")"
jupyter_venv "$venv" "$here/requirements-jjava.txt"
jjava_spec="$JUPYTER_VENV/share/jupyter/kernels/java"
for f in jjava-launcher.jar jjava.jar; do
  [[ -f "$jjava_spec/$f" ]] || { echo "test-jjava.sh: JJava's $jjava_spec/$f is missing (pip install jjava?)" >&2; exit 1; }
done

# ---- 2. kernel spec "jjava-workbench": JJava with the workbench extension, in a throwaway Jupyter data dir -------
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp" "$JUPYTER_RUNTIME_DIR"' EXIT
spec="$tmp/jupyter/kernels/jjava-workbench"
mkdir -p "$spec"
# One PyTorch thread, as in our kernel's run (tiny tensors, a shared CI machine).
jvm_opts="$(tr '\n' ' ' < "$flags_file") -Dai.djl.pytorch.num_threads=1"
JAVA_BIN="$(command -v java)" SPEC_DIR="$jjava_spec" CLASSPATH_GLOB="$ext_dir/*" JVM_OPTS="${jvm_opts% }" \
  "$JUPYTER_VENV/bin/python" - "$spec/kernel.json" <<'EOF'
import json, os, sys
spec = {
    "argv": [os.environ["JAVA_BIN"], "-jar", os.path.join(os.environ["SPEC_DIR"], "jjava-launcher.jar"),
             os.path.join(os.environ["SPEC_DIR"], "jjava.jar"), "{connection_file}"],
    "display_name": "Java (JJava + Minitron Workbench)",
    "language": "java",
    "interrupt_mode": "message",
    "env": {"JJAVA_CLASSPATH": os.environ["CLASSPATH_GLOB"], "JJAVA_JVM_OPTS": " ".join(os.environ["JVM_OPTS"].split()),
            "DJL_OFFLINE": "true"},
}
with open(sys.argv[1], "w") as f:
    json.dump(spec, f, indent=2)
EOF
export JUPYTER_PATH="$tmp/jupyter:$JUPYTER_PATH"
# (the list is read whole first: `jupyter ... | grep -q` under pipefail fails at random when grep exits early)
specs="$(jupyter kernelspec list 2>/dev/null || true)"
grep -q '^ *jjava-workbench ' <<<"$specs" \
  || { echo "test-jjava.sh: kernel 'jjava-workbench' is not listed by jupyter kernelspec list" >&2; exit 1; }
echo "== JJava $("$JUPYTER_VENV/bin/python" -m pip show jjava 2>/dev/null | sed -n 's/^Version: //p') as kernel" \
  "'jjava-workbench', JJAVA_CLASSPATH=$ext_dir/*"

# ---- 3. the notebooks ----------------------------------------------------------------------------------------------
notebooks=("$root"/notebooks/*.ipynb)
rm -rf "$executed"
echo "== executing ${#notebooks[@]} notebooks under JJava (MINITRON_BUDGET=test), checking their outputs"
MINITRON_BUDGET=test MINITRON_OUT="$tmp/walkthrough" \
  "$JUPYTER_VENV/bin/python" "$here/run_notebooks.py" --kernel jjava-workbench --no-progress-timeout 600 \
    --out-dir "$executed" --check-outputs "${notebooks[@]}"

# ---- 4. the same kinds of output as in our kernel ------------------------------------------------------------------
if [[ -d "$ours" ]]; then
  echo "== comparing the outputs with our kernel's ($ours)"
  "$JUPYTER_VENV/bin/python" "$here/run_notebooks.py" --compare-kinds "$ours" "$executed"/*.ipynb
else
  echo "== (no $ours: our kernel's run did not happen here, outputs not compared)"
fi

echo "== JJava notebook checks passed in $((SECONDS - t_start)) s; executed notebooks in $executed"
