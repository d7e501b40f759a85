#!/usr/bin/env python3
"""Compares stock lm-evaluation-harness (run against `minitron serve`) with the workbench's own evaluator on the same
items, prints a table and exits non-zero on any disagreement (tools/lm_eval_check.sh runs it):

  continuation (multiple choice): every choice's log-likelihood to 1e-4; acc and acc_norm item by item, exactly
  last word: the target's log-likelihood to 1e-4; lm-eval's acc (all target tokens greedy) item by item, exactly;
             perplexity to 1e-4 relative
  test-split documents (loglikelihood_rolling): total log-likelihood, word perplexity, byte perplexity and bits
             per byte to 1e-4 relative (lm-eval counts words as len(re.split(r"\\s+", doc)), the workbench as
             str.split(); on documents without leading or trailing whitespace they agree, which is checked)
"""
import argparse
import glob
import json
import math
import re
import sys

import pyarrow.ipc as ipc

LL_TOL = 1e-4
REL_TOL = 1e-4


def samples(lm_dir, task):
    files = glob.glob(f"{lm_dir}/**/samples_{task}_*.jsonl", recursive=True)
    if len(files) != 1:
        sys.exit(f"lm_eval_compare: expected one samples file for {task} under {lm_dir}, found {files}")
    rows = [json.loads(line) for line in open(files[0], encoding="utf-8")]
    return sorted(rows, key=lambda r: r["doc_id"])


def results(lm_dir):
    files = glob.glob(f"{lm_dir}/**/results_*.json", recursive=True)
    if len(files) != 1:
        sys.exit(f"lm_eval_compare: expected one results file under {lm_dir}, found {files}")
    return json.load(open(files[0], encoding="utf-8"))["results"]


def arrow(path):
    with ipc.open_file(path) as f:
        return f.read_all().to_pylist()


def ll_of(resp):  # one lm-eval response: [[loglikelihood, is_greedy]] (strings in the samples file)
    r = resp[0] if isinstance(resp[0], list) else resp
    return float(r[0]), str(r[1]) == "True"


def argmax(xs):  # numpy.argmax: the first of equal maxima
    best = 0
    for i, x in enumerate(xs):
        if x > xs[best]:
            best = i
    return best


def rel(a, b):
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lm-eval", required=True)
    ap.add_argument("--minitron", required=True, help="minitron eval-tasks --details DIR")
    ap.add_argument("--card", required=True, help="eval_results.json of minitron eval --protocol document --card")
    ap.add_argument("--documents", required=True)
    a = ap.parse_args()
    failures = []
    table = []

    # continuation: multiple choice
    lm = samples(a.lm_eval, "minitron_moby_continuation")
    ours = arrow(f"{a.minitron}/moby_continuation.arrow")
    by_item = {}
    for r in ours:
        by_item.setdefault(r["item"], []).append(r)
    if len(lm) != len(by_item):
        failures.append(f"continuation: lm-eval scored {len(lm)} items, minitron {len(by_item)}")
    worst = 0.0
    acc_l = acc_m = norm_l = norm_m = 0
    for s in lm:
        mine = sorted(by_item.get(s["doc_id"], []), key=lambda r: r["choice"])
        theirs = [ll_of(x)[0] for x in s["resps"]]
        if len(mine) != len(theirs):
            failures.append(f"continuation item {s['doc_id']}: {len(theirs)} vs {len(mine)} choices")
            continue
        for c, (t, m) in enumerate(zip(theirs, mine)):
            d = abs(t - m["loglikelihood"])
            worst = max(worst, d)
            if d > LL_TOL:
                failures.append(f"continuation item {s['doc_id']} choice {c}: log-likelihood {t:.6f} (lm-eval) vs "
                                f"{m['loglikelihood']:.6f} (minitron)")
        gold = s["doc"]["gold"]
        my_acc = float(argmax([m["loglikelihood"] for m in mine]) == gold)
        my_norm = float(argmax([m["loglikelihood"] / m["chars"] for m in mine]) == gold)
        if my_acc != s["acc"] or my_norm != s["acc_norm"]:
            failures.append(f"continuation item {s['doc_id']}: acc {s['acc']} / acc_norm {s['acc_norm']} (lm-eval) vs "
                            f"{my_acc} / {my_norm} (minitron)")
        acc_l += s["acc"]; acc_m += my_acc; norm_l += s["acc_norm"]; norm_m += my_norm
    n = max(len(lm), 1)
    table.append(("continuation", "acc", acc_l / n, acc_m / n, "exact per item"))
    table.append(("continuation", "acc_norm", norm_l / n, norm_m / n, "exact per item"))
    table.append(("continuation", "max |Δ loglik| per choice", worst, 0.0, f"<= {LL_TOL}"))

    # last word: loglikelihood
    lm = samples(a.lm_eval, "minitron_moby_lastword")
    ours = {r["item"]: r for r in arrow(f"{a.minitron}/moby_lastword.arrow")}
    if len(lm) != len(ours):
        failures.append(f"last word: lm-eval scored {len(lm)} items, minitron {len(ours)}")
    worst = 0.0
    acc_l = acc_m = 0
    sum_l = sum_m = 0.0
    for s in lm:
        m = ours.get(s["doc_id"])
        if m is None:
            failures.append(f"last word item {s['doc_id']}: missing in minitron's details")
            continue
        t, greedy = ll_of(s["resps"][0])
        d = abs(t - m["loglikelihood"])
        worst = max(worst, d)
        if d > LL_TOL:
            failures.append(f"last word item {s['doc_id']}: log-likelihood {t:.6f} (lm-eval) vs {m['loglikelihood']:.6f}")
        if float(s["acc"]) != float(m["is_greedy"]):
            failures.append(f"last word item {s['doc_id']}: acc {s['acc']} (lm-eval) vs is_greedy {m['is_greedy']}")
        acc_l += s["acc"]; acc_m += float(m["is_greedy"]); sum_l += t; sum_m += m["loglikelihood"]
    n = max(len(lm), 1)
    ppl_l, ppl_m = math.exp(-sum_l / n), math.exp(-sum_m / n)
    reported = results(a.lm_eval)["minitron_moby_lastword"]["perplexity,none"]
    table.append(("last word", "acc", acc_l / n, acc_m / n, "exact per item"))
    table.append(("last word", "perplexity", reported, ppl_m, f"rel <= {REL_TOL}"))
    table.append(("last word", "max |Δ loglik| per item", worst, 0.0, f"<= {LL_TOL}"))
    if rel(reported, ppl_m) > REL_TOL:
        failures.append(f"last word perplexity {reported} (lm-eval) vs {ppl_m} (minitron)")

    # test-split documents: loglikelihood_rolling
    docs = [json.loads(line)["page"] for line in open(a.documents, encoding="utf-8")]
    lm = samples(a.lm_eval, "minitron_moby_test_rolling")
    res = results(a.lm_eval)["minitron_moby_test_rolling"]
    card = {r["metric"]: r for r in json.load(open(a.card, encoding="utf-8"))["results"]}
    for d in docs:
        if len(re.split(r"\s+", d)) != len(d.split()):
            failures.append("a document starts or ends with whitespace: lm-eval and minitron count its words differently")
    nll_l = -sum(float(s["resps"][0][0]) for s in lm)  # a rolling response is [loglikelihood]
    words, nbytes = card["word_perplexity"]["n"], card["bits_per_byte"]["n"]
    nll_m = math.log(card["word_perplexity"]["value"]) * words
    if len(lm) != len(docs):
        failures.append(f"documents: lm-eval scored {len(lm)}, the file has {len(docs)}")
    table.append(("test documents", "total NLL (nats)", nll_l, nll_m, f"rel <= {REL_TOL}"))
    if rel(nll_l, nll_m) > REL_TOL:
        failures.append(f"documents: total NLL {nll_l} (lm-eval) vs {nll_m} (minitron)")
    for metric in ("word_perplexity", "byte_perplexity", "bits_per_byte"):
        t, m = res[f"{metric},none"], card[metric]["value"]
        table.append(("test documents", metric, t, m, f"rel <= {REL_TOL}"))
        if rel(t, m) > REL_TOL:
            failures.append(f"documents: {metric} {t} (lm-eval) vs {m} (minitron)")

    print(f"{'task':<16} {'metric':<28} {'lm-eval':>16} {'minitron':>16}  rule")
    for task, metric, t, m, rule in table:
        print(f"{task:<16} {metric:<28} {t:>16.6f} {m:>16.6f}  {rule}")
    print(f"items: continuation and last word {len(samples(a.lm_eval, 'minitron_moby_lastword'))} each, "
          f"documents {len(docs)} ({words} words, {nbytes} bytes)")
    if failures:
        print(f"DISAGREEMENT ({len(failures)}):")
        for f in failures[:50]:
            print("  " + f)
        sys.exit(1)
    print("lm-eval and minitron agree")


if __name__ == "__main__":
    main()
