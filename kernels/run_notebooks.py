#!/usr/bin/env python3
"""Runs notebooks headless with the Java kernel, one after another, showing progress on the console.

    run_notebooks.py [--out-dir DIR] [--html] [--timeout S] [--kernel NAME] NOTEBOOK...
    run_notebooks.py --check-stripped NOTEBOOK...

Each notebook executes with its own folder as the working directory (as `jupyter nbconvert --execute` does).
While it runs, its printed output and its live displays (throttled) are echoed to the console, prefixed
with the notebook's name, and every notebook's start and end are printed with the elapsed time. The
executed notebook is written to DIR/NAME.ipynb and, with --html, exported to DIR/NAME.html (nbconvert's
HTML exporter). A cell error stops the run: the partly executed notebook is still written, the error is
printed, and the exit status is 1.

--check-stripped fails (exit 1) if a committed notebook holds outputs or execution counts.
"""
import argparse
import os
import re
import sys
import time

import nbformat


def check_stripped(paths):
    bad = []
    for p in paths:
        nb = nbformat.read(p, as_version=4)
        for i, c in enumerate(nb.cells):
            if c.cell_type != "code":
                continue
            if c.get("outputs"):
                bad.append(f"{p}: cell {i} has {len(c.outputs)} output(s)")
            if c.get("execution_count") is not None:
                bad.append(f"{p}: cell {i} has execution_count {c.execution_count}")
    for b in bad:
        print(b, file=sys.stderr)
    if bad:
        print("notebooks must be committed without outputs (clear them: Jupyter's 'Clear All Outputs', or "
              "`jupyter nbconvert --clear-output --inplace NOTEBOOK`)", file=sys.stderr)
        return 1
    print(f"{len(paths)} notebook(s) stripped of outputs")
    return 0


# Library start-up chatter the console does not need (it stays in the executed notebook).
NOISE = re.compile(r"^\[[^\]]*\] INFO org\.apache\.arrow\.")


def make_client(nb, name, timeout, kernel, cwd):
    from nbclient import NotebookClient

    class EchoingClient(NotebookClient):
        """Echoes stream output and (throttled) live display updates to the console as they arrive."""

        last_echo = {}
        partial = ""

        def echo(self, text):
            for line in text.rstrip("\n").split("\n"):
                if not NOISE.search(line):
                    print(f"  [{name}] {line}", flush=True)

        def process_message(self, msg, cell, cell_index):
            t = msg["msg_type"]
            content = msg.get("content", {})
            if t == "stream":
                # print whole lines only: a printf arrives in pieces
                text = self.partial + content.get("text", "")
                done, _, self.partial = text.rpartition("\n")
                if done:
                    self.echo(done)
            elif t == "status" and content.get("execution_state") == "idle" and self.partial:
                self.echo(self.partial)
                self.partial = ""
            elif t in ("display_data", "update_display_data") and set(content.get("data", {})) == {"text/plain"}:
                text = content["data"]["text/plain"]
                transient = content.get("transient") or {}
                did = transient.get("display_id")
                now = time.monotonic()
                if text and len(text) <= 160 and "\n" not in text.strip() and did:
                    m = re.search(r"(\d+)/(\d+)$", text)
                    finished = (m and m.group(1) == m.group(2)) or " done" in text
                    if now - self.last_echo.get(did, 0) >= 2.0 or finished:
                        self.last_echo[did] = now
                        self.echo(text)
            return super().process_message(msg, cell, cell_index)

    return EchoingClient(nb, timeout=timeout, kernel_name=kernel, resources={"metadata": {"path": cwd}})


def run(args):
    os.makedirs(args.out_dir, exist_ok=True)
    total_start = time.monotonic()
    times = []
    status = 0
    for i, path in enumerate(args.notebooks, 1):
        name = os.path.splitext(os.path.basename(path))[0]
        nb = nbformat.read(path, as_version=4)
        cwd = os.path.dirname(os.path.abspath(path))
        print(f"== [{i}/{len(args.notebooks)}] {name}: started at +{time.monotonic() - total_start:.0f} s", flush=True)
        t0 = time.monotonic()
        client = make_client(nb, name, args.timeout, args.kernel, cwd)
        error = None
        try:
            client.execute()
        except Exception as e:  # CellExecutionError, DeadKernelError, timeouts
            error = e
        elapsed = time.monotonic() - t0
        out_nb = os.path.join(args.out_dir, name + ".ipynb")
        nbformat.write(nb, out_nb)
        written = [out_nb]
        if args.html:
            from nbconvert import HTMLExporter
            body, _ = HTMLExporter().from_notebook_node(nb)
            out_html = os.path.join(args.out_dir, name + ".html")
            with open(out_html, "w", encoding="utf-8") as f:
                f.write(body)
            written.append(out_html)
        times.append((name, elapsed, error is None))
        if error is not None:
            print(f"== {name}: FAILED after {elapsed:.1f} s\n{error}", file=sys.stderr, flush=True)
            status = 1
            break
        print(f"== {name}: done in {elapsed:.1f} s -> {', '.join(written)}", flush=True)
    print("== notebook times:", flush=True)
    for name, s, ok in times:
        print(f"   {name:<28} {s:7.1f} s{'' if ok else '  FAILED'}", flush=True)
    print(f"   {'total':<28} {time.monotonic() - total_start:7.1f} s", flush=True)
    return status


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("notebooks", nargs="+")
    ap.add_argument("--out-dir", default="executed")
    ap.add_argument("--html", action="store_true", help="also export each executed notebook to HTML")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds a single cell may run (default 1800)")
    ap.add_argument("--kernel", default="java")
    ap.add_argument("--check-stripped", action="store_true")
    args = ap.parse_args()
    for p in args.notebooks:
        if not os.path.isfile(p):
            print(f"run_notebooks.py: no such notebook: {p}", file=sys.stderr)
            return 2
    if args.check_stripped:
        return check_stripped(args.notebooks)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
