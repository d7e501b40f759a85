# Sourced (not run) by kernels/test-kernel.sh and tools/walkthrough.sh: the pinned headless Jupyter and the
# Java kernel installed into it, the one place that knows how.
#
#   source kernels/jupyter-env.sh
#   jupyter_venv DIR [EXTRA]    # creates DIR (a venv with kernels/requirements-jupyter.txt and the pinned
#                               # requirements file EXTRA, e.g. requirements-jjava.txt) unless it is current;
#                               # puts it first on PATH and keeps the user's own Jupyter config and kernels out
#   jupyter_install_kernel [--skip-build] [--jvm-opts "OPTS"]   # kernels/install.sh --prefix DIR, then checks
#                               # that Jupyter lists "java"
#
# Environment: PYTHON (default python3), MVN_ARGS (passed on to install.sh's Maven build, e.g. -o).

_jupyter_env_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

jupyter_venv() {
  local venv="${1:?jupyter_venv needs a directory}"
  local python="${PYTHON:-python3}"
  local reqs=("$_jupyter_env_here/requirements-jupyter.txt")
  [[ -n "${2:-}" ]] && reqs+=("$2")
  local stamp="$venv/.minitron-requirements"
  if [[ ! -x "$venv/bin/python" ]] || ! cat "${reqs[@]}" | cmp -s - "$stamp"; then
    command -v "$python" >/dev/null 2>&1 || { echo "no $python on PATH: Python 3 (with venv and pip) is needed for Jupyter" >&2; return 1; }
    echo "== creating the Jupyter venv $venv (pinned ${reqs[*]##*/})"
    "$python" -m venv "$venv" || { echo "could not create a venv with $python (Debian/Ubuntu: apt-get install python3-venv)" >&2; return 1; }
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "${reqs[@]/#/--requirement=}" \
      || { echo "pip could not install ${reqs[*]} into $venv" >&2; return 1; }
    cat "${reqs[@]}" > "$stamp"
  fi
  JUPYTER_VENV="$(cd "$venv" && pwd)"
  export JUPYTER_VENV
  export PATH="$JUPYTER_VENV/bin:$PATH"
  # Only the venv's kernels and config: the user's own Jupyter setup stays out of it.
  export JUPYTER_PATH="$JUPYTER_VENV/share/jupyter" JUPYTER_DATA_DIR="$JUPYTER_VENV/share/jupyter"
  export JUPYTER_CONFIG_DIR="$JUPYTER_VENV/etc/jupyter" JUPYTER_PLATFORM_DIRS=1
  export JUPYTER_RUNTIME_DIR="${TMPDIR:-/tmp}/minitron-jupyter-runtime-$$"
}

jupyter_install_kernel() {
  [[ -n "${JUPYTER_VENV:-}" ]] || { echo "jupyter_install_kernel: call jupyter_venv first" >&2; return 1; }
  local args=(--prefix "$JUPYTER_VENV")
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --skip-build) args+=(--skip-build) ;;
      --jvm-opts) args+=(--jvm-opts "${2?}"); shift ;;
      *) echo "jupyter_install_kernel: unknown option $1" >&2; return 2 ;;
    esac
    shift
  done
  echo "== installing the Java kernel into $JUPYTER_VENV"
  "$_jupyter_env_here/install.sh" "${args[@]}" || return 1
  # read the list whole first: `... | grep -q` fails at random under pipefail when grep exits early
  local specs
  specs="$(jupyter kernelspec list 2>/dev/null || true)"
  grep -q '^ *java ' <<<"$specs" \
    || { echo "kernel 'java' is not listed by jupyter kernelspec list" >&2; return 1; }
}
