#!/usr/bin/env bash
# Cross-check: stock lm-evaluation-harness (`lm_eval --model local-completions`) against `minitron serve`, compared
# with the workbench's own evaluator on the same items (tools/lm_eval_compare.py prints the table and fails on any
# disagreement):
#   (a) the workbench's JSONL tasks as local lm-eval YAML tasks (tools/lm_eval_tasks/): continuation multiple choice
#       (acc, acc_norm item by item, every choice's log-likelihood to 1e-4) and last word (log-likelihood to 1e-4,
#       lm-eval's acc = is_greedy item by item, perplexity);
#   (b) lm-eval's wikitext protocol (loglikelihood_rolling) over the first documents of the test split written as a
#       local dataset file, against `minitron eval --protocol document` (word perplexity and bits per byte to 1e-4
#       relative; the total log-likelihood to 1e-4 relative).
# lm-eval is pinned in cache/venv-lm-eval (tools/requirements-lm-eval.txt: lm-eval[api], no torch, no transformers:
# local-completions tokenises through the server's /tokenize endpoints). Run by `mvn verify` (workbench-lib,
# integration-test phase) after the build; by hand: `mvn -B -pl workbench-lib -DskipTests package && tools/lm_eval_check.sh`.
#
# Environment: LIMIT (items per task, default 40), DOCS (test-split documents, default 8), VENV, OUT
#              (default workbench-lib/target/lm-eval-check).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="${VENV:-$root/cache/venv-lm-eval}"
req="$root/tools/requirements-lm-eval.txt"
out="${OUT:-$root/workbench-lib/target/lm-eval-check}"
limit="${LIMIT:-40}"
docs="${DOCS:-8}"
max_length=512   # lm-eval: prompts of at most 511 tokens + 1 generated; rolling windows of 510 predicted tokens
seq_len=510      # minitron eval --protocol document: the same windows
t0=$SECONDS

if [[ ! -x "$venv/bin/lm_eval" ]] || ! cmp -s "$req" "$venv/.minitron-requirements"; then
  echo "lm_eval_check: creating $venv (lm-eval, pinned)"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req"
  cp "$req" "$venv/.minitron-requirements"
fi
lib="$root/workbench-lib/target"
[[ -d "$lib/classes" && -d "$lib/lib" ]] || { echo "lm_eval_check: build first (mvn -B -pl workbench-lib -DskipTests package)" >&2; exit 1; }
java_cmd=(java --add-opens=java.base/java.nio=ALL-UNNAMED -Dai.djl.offline=true -Djava.awt.headless=true
  -cp "$lib/classes:$lib/lib/*" ai.minitron.cli.Main)
export DJL_OFFLINE=true

rm -rf "$out"
mkdir -p "$out"
# (b)'s dataset: the first $docs documents of the test split, as lm-eval reads them (JSON lines {"page": ...}) and
# as minitron reads them (a corpus file, <|endoftext|> lines between documents)
"$venv/bin/python" - "$root/data/corpus/test.txt" "$out" "$docs" <<'PY'
import json, sys
text, out, n = open(sys.argv[1], encoding="utf-8").read(), sys.argv[2], int(sys.argv[3])
docs, cur = [], []
def add(raw):  # ai.minitron.data.Corpus: a document between separator lines, line breaks at its ends removed
    d = raw.strip("\r\n")
    if d.strip():
        docs.append(d)
for line in text.split("\n"):
    if line.rstrip("\r") == "<|endoftext|>":
        add("\n".join(cur)); cur = []
    else:
        cur.append(line)
add("\n".join(cur))
docs = docs[:n]
with open(f"{out}/test_documents.jsonl", "w", encoding="utf-8") as f:
    for d in docs:
        f.write(json.dumps({"page": d}, ensure_ascii=False) + "\n")
with open(f"{out}/test_documents.txt", "w", encoding="utf-8") as f:
    f.write("\n\n<|endoftext|>\n\n".join(docs) + "\n")
PY

# ---- the server, on a free port ---------------------------------------------------------------------------------
"${java_cmd[@]}" serve --model data/teacher --port 0 > "$out/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
url=""
for _ in $(seq 1 600); do
  url="$(sed -n 's/^listening on \(http[^ ]*\)\/v1 .*/\1/p' "$out/server.log")"
  [[ -n "$url" ]] && break
  kill -0 "$server" 2>/dev/null || { cat "$out/server.log" >&2; echo "lm_eval_check: the server did not start" >&2; exit 1; }
  sleep 0.5
done
[[ -n "$url" ]] || { echo "lm_eval_check: the server did not report its address" >&2; exit 1; }
echo "lm_eval_check: minitron serve at $url ($((SECONDS - t0)) s)"

# ---- stock lm_eval against it -----------------------------------------------------------------------------------
export HF_DATASETS_OFFLINE=1 HF_HUB_OFFLINE=1 HF_HOME="$out/hf" HF_DATASETS_CACHE="$out/hf/datasets"
"$venv/bin/lm_eval" --model local-completions \
  --model_args "base_url=$url/v1/completions,model=teacher,max_length=$max_length" --batch_size 8 \
  --tasks minitron_moby_continuation,minitron_moby_lastword,minitron_moby_test_rolling \
  --include_path tools/lm_eval_tasks --limit "$limit" --log_samples --output_path "$out/lm_eval" \
  > "$out/lm_eval.log" 2>&1 || { tail -40 "$out/lm_eval.log" >&2; echo "lm_eval_check: lm_eval failed ($out/lm_eval.log)" >&2; exit 1; }
sed -n '/^|/p' "$out/lm_eval.log"
kill "$server"; wait "$server" 2>/dev/null || true
trap - EXIT
echo "lm_eval_check: lm_eval done ($((SECONDS - t0)) s)"

# ---- the workbench's own evaluator on the same items ------------------------------------------------------------
"${java_cmd[@]}" eval-tasks --model data/teacher --tasks data/tasks/moby_continuation.jsonl \
  --tasks data/tasks/moby_lastword.jsonl --limit "$limit" --details "$out/minitron" > "$out/minitron-tasks.log" 2>&1 \
  || { cat "$out/minitron-tasks.log" >&2; exit 1; }
"${java_cmd[@]}" eval --model data/teacher --text "$out/test_documents.txt" --protocol document --seq-len "$seq_len" \
  --card "$out/minitron-card" > "$out/minitron-ppl.log" 2>&1 || { cat "$out/minitron-ppl.log" >&2; exit 1; }
echo "lm_eval_check: minitron eval done ($((SECONDS - t0)) s)"

"$venv/bin/python" "$root/tools/lm_eval_compare.py" --lm-eval "$out/lm_eval" --minitron "$out/minitron" \
  --card "$out/minitron-card/eval_results.json" --documents "$out/test_documents.jsonl"
echo "lm_eval_check: agreed in $((SECONDS - t0)) s"
