#!/usr/bin/env python3
"""The PyTorch side of `./minitron bench --peer`: Hugging Face transformers on PyTorch eager, CPU, fp32.

A worker, not a benchmark of its own: the Java benchmark (ai.minitron.bench.PeerBenchmark) starts it once,
sends one JSON command per line on stdin and reads one JSON answer per line on stdout, so that our engine and
this one run the same workload on the same weights and token ids, interleaved repetition by repetition in one
invocation. Each timed command does one unit of work and answers with its wall time in seconds:

  {"op": "hello", "threads": N}                       -> versions, threads, environment (sets torch threads)
  {"op": "load", "name": S, "dir": D}                 -> loads a checkpoint directory (config.json + safetensors)
  {"op": "matmul", "n": 1024}                         -> seconds of one fp32 n x n x n matmul
  {"op": "decode", "model": S, "ids": [[...]], "new": K}
        greedy model.generate with its KV cache, K new tokens (EOS ignored) -> seconds, tokens
  {"op": "forward", "model": S, "ids": [[...]]}       -> seconds of one forward to the logits, autograd off
  {"op": "train", "model": S, "ids": [[...]], "lr": x}
        forward + next-token cross-entropy + backward + global-norm clip 1.0 + AdamW step -> seconds, loss
  {"op": "distill", "teacher": S, "student": S2, "ids": [[...]], "lr": x}
        teacher forward without gradients + student forward / backward on forward KL(teacher || student)
        (mean over tokens, tau = 1) + clip + AdamW -> seconds, loss
  {"op": "quit"}

Errors are answered as {"error": "..."} and the worker keeps serving. Nothing here is timed against a goal.
Requirements: tools/requirements-peer.txt (installed by the Java side into cache/venv-peer on first use).
"""
import json
import os
import platform
import sys
import time


def main():
    import torch
    import transformers

    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    torch.set_grad_enabled(False)
    models = {}
    optimizers = {}
    out = sys.stdout
    sys.stdout = sys.stderr  # anything a library prints must not corrupt the protocol

    def answer(obj):
        out.write(json.dumps(obj) + "\n")
        out.flush()

    def ids_tensor(cmd):
        return torch.tensor(cmd["ids"], dtype=torch.long)

    def optimizer(name, model):
        if name not in optimizers:
            optimizers[name] = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95), eps=1e-8,
                                                 weight_decay=0.0)
        return optimizers[name]

    def step(name, model, loss_fn, lr):
        opt = optimizer(name, model)
        for g in opt.param_groups:
            g["lr"] = lr
        model.train()
        with torch.enable_grad():
            loss = loss_fn()
            loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=False)
        model.eval()
        return float(loss)

    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        cmd = json.loads(line)
        op = cmd.get("op")
        try:
            if op == "hello":
                torch.set_num_threads(int(cmd["threads"]))
                answer({"torch": torch.__version__, "transformers": transformers.__version__,
                        "python": platform.python_version(), "threads": torch.get_num_threads(),
                        "interop_threads": torch.get_num_interop_threads(),
                        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "")})
            elif op == "load":
                model = transformers.AutoModelForCausalLM.from_pretrained(
                    cmd["dir"], dtype=torch.float32, attn_implementation=cmd.get("attn", "sdpa"))
                model.eval()
                models[cmd["name"]] = model
                answer({"parameters": sum(p.numel() for p in model.parameters())})
            elif op == "matmul":
                n = int(cmd["n"])
                a = torch.randn(n, n)
                b = torch.randn(n, n)
                t0 = time.perf_counter()
                (a @ b).sum().item()
                answer({"seconds": time.perf_counter() - t0})
            elif op == "decode":
                model = models[cmd["model"]]
                ids = ids_tensor(cmd)
                new = int(cmd["new"])
                t0 = time.perf_counter()
                gen = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=new,
                                     min_new_tokens=new, do_sample=False, use_cache=True, pad_token_id=0,
                                     eos_token_id=None)
                secs = time.perf_counter() - t0
                answer({"seconds": secs, "tokens": gen[:, ids.shape[1]:].tolist()})
            elif op == "forward":
                model = models[cmd["model"]]
                ids = ids_tensor(cmd)
                t0 = time.perf_counter()
                with torch.inference_mode():
                    model(ids, use_cache=False).logits[0, 0, 0].item()
                answer({"seconds": time.perf_counter() - t0})
            elif op == "train":
                name = cmd["model"]
                model = models[name]
                ids = ids_tensor(cmd)
                t0 = time.perf_counter()
                loss = step(name, model, lambda: model(ids, labels=ids, use_cache=False).loss, float(cmd["lr"]))
                answer({"seconds": time.perf_counter() - t0, "loss": loss})
            elif op == "distill":
                teacher = models[cmd["teacher"]]
                name = cmd["student"]
                student = models[name]
                ids = ids_tensor(cmd)

                def kd():
                    with torch.no_grad():
                        t = teacher(ids, use_cache=False).logits
                    s = student(ids, use_cache=False).logits
                    v = min(t.shape[-1], s.shape[-1])
                    log_p = torch.log_softmax(t[..., :v], dim=-1)
                    log_q = torch.log_softmax(s[..., :v], dim=-1)
                    return (log_p.exp() * (log_p - log_q)).sum(-1).mean()

                t0 = time.perf_counter()
                loss = step(name, student, kd, float(cmd["lr"]))
                answer({"seconds": time.perf_counter() - t0, "loss": loss})
            elif op == "quit":
                answer({"bye": True})
                return
            else:
                answer({"error": "unknown op " + repr(op)})
        except Exception as e:  # answer and keep serving: the Java side names the workload
            answer({"error": type(e).__name__ + ": " + str(e)})


if __name__ == "__main__":
    main()
