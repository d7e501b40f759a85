#!/usr/bin/env bash
# Builds the Minitron Workbench Java kernel and installs it as the Jupyter kernel "java".
#
#   kernels/install.sh [--user | --sys-prefix | --prefix DIR] [--in-place] [--skip-build]
#                      [--java PATH] [--jvm-opts "OPTS"] [--name NAME]
#
#   --user          into the user's Jupyter data dir (default)
#   --sys-prefix    into the Python environment that runs `jupyter` (a venv or conda env)
#   --prefix DIR    into DIR/share/jupyter/kernels/NAME (e.g. a venv you point Jupyter at)
#   --in-place      do not copy jars: run from kernels/target (for working on the kernel or workbench-lib;
#                   a later `mvn clean` breaks the installed kernel until the next build)
#   --skip-build    use what kernels/target already holds
#   --java PATH     the java (17+, a JDK: JShell is needed) the kernel runs on; default $JAVA_HOME/bin/java,
#                   else `java` on PATH, resolved to an absolute path
#   --jvm-opts STR  extra JVM options for the kernel, e.g. "-Xmx8g"
#   --name NAME     kernel name (default: java)
#
# Environment: MVN_ARGS (extra Maven arguments, e.g. "-o" to build offline).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

mode=user
prefix=""
in_place=0
build=1
java_bin=""
jvm_opts=""
name=java

while [[ $# -gt 0 ]]; do
  case "$1" in
    --user) mode=user ;;
    --sys-prefix) mode=sys-prefix ;;
    --prefix) mode=prefix; prefix="${2:?--prefix needs a directory}"; shift ;;
    --prefix=*) mode=prefix; prefix="${1#--prefix=}" ;;
    --in-place) in_place=1 ;;
    --skip-build) build=0 ;;
    --java) java_bin="${2:?--java needs a path}"; shift ;;
    --java=*) java_bin="${1#--java=}" ;;
    --jvm-opts) jvm_opts="${2-}"; shift ;;
    --jvm-opts=*) jvm_opts="${1#--jvm-opts=}" ;;
    --name) name="${2:?--name needs a value}"; shift ;;
    --name=*) name="${1#--name=}" ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

# ---- Java: a JDK 17+ with JShell -------------------------------------------------------------------------------
if [[ -z "$java_bin" ]]; then
  if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then java_bin="$JAVA_HOME/bin/java"
  else java_bin="$(command -v java || true)"; fi
fi
[[ -n "$java_bin" && -x "$java_bin" ]] || { echo "install.sh: no java found (set JAVA_HOME or pass --java)" >&2; exit 1; }
java_bin="$(readlink -f "$java_bin")"
java_major="$("$java_bin" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
if [[ -z "$java_major" || "${java_major%%.*}" -lt 17 ]]; then
  echo "install.sh: $java_bin is Java ${java_major:-?}; the kernel needs 17 or newer" >&2; exit 1
fi
modules="$("$java_bin" --list-modules 2>/dev/null || true)" # read whole: `| grep -q` races under pipefail
if ! grep -q '^jdk.jshell@' <<<"$modules"; then
  echo "install.sh: $java_bin has no jdk.jshell module (a JRE?); install a full JDK 17" >&2; exit 1
fi

# ---- build -----------------------------------------------------------------------------------------------------
target="$here/target"
if [[ $build -eq 1 ]]; then
  echo "Building the kernel (workbench-lib + kernels, tests skipped)..."
  # shellcheck disable=SC2086
  mvn -q -B ${MVN_ARGS:-} -f "$root/pom.xml" -pl kernels -am package -DskipTests
fi
for f in "$target/minitron-kernel.jar" "$target/lib" "$target/kernelspec/jvm-flags.txt"; do
  [[ -e "$f" ]] || { echo "install.sh: $f is missing; build first (drop --skip-build)" >&2; exit 1; }
done

# ---- kernel spec -----------------------------------------------------------------------------------------------
json_escape() { local s="$1"; s="${s//\\/\\\\}"; s="${s//\"/\\\"}"; printf '"%s"' "$s"; }

write_kernel_json() { # $1 = spec dir, $2 = directory holding minitron-kernel.jar and lib/
  local spec="$1" home="$2" args=() a
  args+=("$(json_escape "$java_bin")")
  # shellcheck disable=SC2207
  local flags=($(cat "$target/kernelspec/jvm-flags.txt") $jvm_opts)
  for a in "${flags[@]}"; do args+=("$(json_escape "$a")"); done
  # The Java agent refuses data types that abort libtorch (NativeDTypeGuard) instead of letting a cell kill the kernel.
  args+=("$(json_escape "-javaagent:$home/minitron-kernel.jar")")
  args+=("$(json_escape "-cp")" "$(json_escape "$home/minitron-kernel.jar:$home/lib/*")")
  args+=("$(json_escape "ai.minitron.kernel.KernelMain")" "$(json_escape "{connection_file}")")
  local joined
  joined="$(printf '%s,\n    ' "${args[@]}")"
  cat > "$spec/kernel.json" <<EOF
{
  "argv": [
    ${joined%,*}
  ],
  "display_name": "Java (Minitron Workbench)",
  "language": "java",
  "interrupt_mode": "message",
  "env": {
    "DJL_OFFLINE": "true",
    "OMP_WAIT_POLICY": "PASSIVE"
  },
  "metadata": {
    "debugger": false
  }
}
EOF
}

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
spec="$stage/$name"
mkdir -p "$spec"
if [[ $in_place -eq 1 ]]; then
  write_kernel_json "$spec" "$target"
else
  cp "$target/minitron-kernel.jar" "$spec/"
  cp -r "$target/lib" "$spec/lib"
  # Rewritten below with the final absolute path; {resource_dir} also works with jupyter_client >= 7.
  write_kernel_json "$spec" "{resource_dir}"
fi

finalize() { # $1 = installed spec dir
  local dest="$1"
  if [[ $in_place -eq 0 ]]; then
    local esc="${dest//\\/\\\\}"; esc="${esc//#/\\#}"; esc="${esc//&/\\&}"
    sed -i.bak "s#{resource_dir}#${esc}#g" "$dest/kernel.json" && rm -f "$dest/kernel.json.bak"
  fi
  echo "Installed Jupyter kernel '$name' (Java (Minitron Workbench)) in $dest"
}

if command -v jupyter >/dev/null 2>&1 && jupyter kernelspec --version >/dev/null 2>&1; then
  flag=(--user)
  case "$mode" in
    sys-prefix) flag=(--sys-prefix) ;;
    prefix) flag=(--prefix "$prefix") ;;
  esac
  out="$(jupyter kernelspec install --replace --name "$name" "${flag[@]}" "$spec" 2>&1)" || { echo "$out" >&2; exit 1; }
  dest="$(printf '%s\n' "$out" | sed -n 's/.*Installed kernelspec [^ ]* in //p' | tail -1)"
  [[ -n "$dest" && -f "$dest/kernel.json" ]] || { echo "install.sh: could not find where jupyter installed it: $out" >&2; exit 1; }
else
  case "$mode" in
    user)
      if [[ "$(uname)" == Darwin ]]; then base="$HOME/Library/Jupyter"; else base="${JUPYTER_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/jupyter}"; fi ;;
    prefix) base="$prefix/share/jupyter" ;;
    sys-prefix)
      py="$(command -v python3 || command -v python || true)"
      [[ -n "$py" ]] || { echo "install.sh: --sys-prefix needs python or jupyter on PATH" >&2; exit 1; }
      base="$("$py" -c 'import sys; print(sys.prefix)')/share/jupyter" ;;
  esac
  dest="$base/kernels/$name"
  rm -rf "$dest"
  mkdir -p "$(dirname "$dest")"
  cp -r "$spec" "$dest"
  dest="$(cd "$dest" && pwd)"
fi
finalize "$dest"
