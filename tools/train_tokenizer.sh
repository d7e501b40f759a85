#!/usr/bin/env bash
# Retrains the project's byte-level BPE tokenizer (data/tokenizer/tokenizer.json) with our own
# Java trainer, ai.minitron.tokenize.BpeTrainer. Deterministic: the same input file gives a
# byte-identical tokenizer.json (BpeTrainerTest.committedTokenizerIsReproducible checks it).
#
#   tools/train_tokenizer.sh                       # the committed default (vocab 8192, train slice)
#   tools/train_tokenizer.sh --vocab-size 4096 --out /tmp/tok/tokenizer.json cache/corpus/train.txt
#
# Arguments after the script name replace the defaults entirely; see BpeTrainer.main for the syntax:
#   [--vocab-size N] [--special TOKEN]... --out tokenizer.json FILE...
set -euo pipefail
cd "$(dirname "$0")/.."

mvn -q -o -pl workbench-lib compile
mvn -q -o -pl workbench-lib dependency:build-classpath -Dmdep.outputFile="$PWD/workbench-lib/target/tokenizer-cp.txt" \
    -Dmdep.includeScope=runtime >/dev/null
CP="workbench-lib/target/classes:$(cat workbench-lib/target/tokenizer-cp.txt)"

if [ "$#" -eq 0 ]; then
  set -- --vocab-size 8192 --special '<|endoftext|>' --out data/tokenizer/tokenizer.json \
         data/corpus/train.txt
fi
exec java -Dai.djl.offline=true -Xmx2g -cp "$CP" ai.minitron.tokenize.BpeTrainer "$@"
