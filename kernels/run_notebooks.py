#!/usr/bin/env python3
"""Runs notebooks headless with the Java kernel, one after another, showing progress on the console.

    run_notebooks.py [--out-dir DIR] [--html] [--check-outputs] [--no-progress-timeout S] [--resume]
                     [--kernel NAME] NOTEBOOK...
    run_notebooks.py --check-stripped NOTEBOOK...
    run_notebooks.py --check-executed EXECUTED_NOTEBOOK...
    run_notebooks.py --compare-kinds REFERENCE_DIR EXECUTED_NOTEBOOK...

Each notebook executes with its own folder as the working directory (as `jupyter nbconvert --execute` does).
While it runs, its printed output and its live displays (throttled) are echoed to the console, prefixed
with the notebook's name, and every notebook's start and end are printed with the elapsed time. The
executed notebook is written to DIR/NAME.ipynb and, with --html, exported to DIR/NAME.html (nbconvert's
HTML exporter) that works alone and offline: the math renderer (MathJax, --mathjax FILE or $MINITRON_MATHJAX,
as tools/fetch-mathjax.sh fetches it) is inlined instead of nbconvert's link to a CDN. A cell error stops the run: the partly executed notebook is still written, the error is
printed, and the exit status is 1.

A slow machine is not an error: there is no limit on a cell's total time. A cell fails only when it makes no
progress -- no output, no display update -- for --no-progress-timeout seconds (default $MINITRON_NO_PROGRESS_TIMEOUT,
else 600; 0 = no limit); its kernel is then stopped and the message says how to raise the limit.

--resume skips a notebook whose executed copy in DIR finished in an earlier run (recorded in its metadata, with the
notebook's code and $MINITRON_BUDGET); from the first notebook that runs, every later one runs too.

--check-stripped fails (exit 1) if a committed notebook holds outputs or execution counts.

--check-outputs checks what users share after each notebook ran (--check-executed: notebooks executed before): a
notebook fails (exit 1) on any output showing an object identity (`java.io.PrintStream@1b6d3586`), on a stream
output split mid-line (a stream output not ending in a newline while a later stream output of the same name
follows in the same cell) and on INFO log lines (library logging belongs at WARN; see MINITRON_LOG).

--compare-kinds REFERENCE_DIR fails (exit 1) unless every code cell of each executed notebook showed the same kinds
of output as the notebook of the same name in REFERENCE_DIR (executed in another kernel): the stream names and, for
displays and results, the richest MIME type (image/png, text/html, text/plain, ...); an empty text result counts
as nothing. kernels/test-jjava.sh compares the notebooks run under JJava with our kernel's run this way.
"""
import argparse
import hashlib
import os
import re
import sys
import threading
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


# What Object.toString() shows: a type and an identity hash.
IDENTITY = re.compile(r"[A-Za-z_$][\w.$]*@[0-9a-f]{5,}")
# An INFO log line: slf4j-simple's "[thread] INFO logger - ..." or java.util.logging's "INFO: ...".
INFO_LINE = re.compile(r"^(\[[^\]]*\] INFO |INFO: )", re.MULTILINE)
TEXT_MIMES = ("text/plain", "text/html", "text/markdown")


def output_problems(nb, name):
    """What makes an executed notebook unfit to share: one message per problem (empty: clean)."""
    problems = []
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        where = f"{name}: cell {i} (code cell {code_cells.index(cell) + 1})"
        outs = cell.get("outputs", [])
        for j, o in enumerate(outs):
            if o.output_type == "stream":
                texts = [o.text]
                for info in INFO_LINE.finditer(o.text):
                    line = o.text[info.start():].split("\n", 1)[0]
                    problems.append(f"{where}: INFO log line on {o.name}: {line[:120]}")
                if not o.text.endswith("\n") and any(
                        later.output_type == "stream" and later.name == o.name for later in outs[j + 1:]):
                    problems.append(f"{where}: {o.name} output {j} ends mid-line ({o.text[-40:]!r}) and another "
                                    f"{o.name} output follows: a line split into pieces")
            elif o.output_type in ("execute_result", "display_data"):
                texts = [o.data[m] for m in TEXT_MIMES if isinstance(o.get("data", {}).get(m), str)]
            else:
                texts = []
            for t in texts:
                for m in IDENTITY.finditer(t):
                    problems.append(f"{where}: {o.output_type} shows an object identity: {m.group(0)}")
    return problems


def report(bad, ok_message):
    """Exit status of a check: 1 with each problem printed, else 0 with `ok_message`."""
    for b in bad:
        print("FAIL " + b, file=sys.stderr)
    if bad:
        return 1
    print(ok_message)
    return 0


def check_outputs(paths):
    bad = []
    for p in paths:
        bad += output_problems(nbformat.read(p, as_version=4), os.path.basename(p))
    return report(bad, f"{len(paths)} executed notebook(s) clean: whole lines, no object identities, no INFO logging")


# Richest first: what a display or result shows as.
RICH_MIMES = ("image/png", "image/svg+xml", "text/html", "text/markdown", "text/latex", "application/json",
              "text/plain")


def output_kinds(nb):
    """Per code cell, the set of kinds of output it showed: 'stdout', 'stderr', 'error', or a display's MIME type."""
    kinds = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        k = set()
        for o in cell.get("outputs", []):
            if o.output_type == "stream":
                k.add(o.name)
            elif o.output_type == "error":
                k.add("error")
            elif o.output_type in ("execute_result", "display_data"):
                data = o.get("data", {})
                if set(data) <= {"text/plain"} and not data.get("text/plain", "").strip():
                    continue  # an empty result (JJava's for a cell ending in printf): nothing shown
                k.add(next((m for m in RICH_MIMES if m in data), "other"))
        kinds.append(k)
    return kinds


def compare_kinds(reference_dir, paths):
    bad = []
    for p in paths:
        name = os.path.basename(p)
        ref = os.path.join(reference_dir, name)
        if not os.path.isfile(ref):
            bad.append(f"{name}: no {ref} to compare with")
            continue
        mine, theirs = output_kinds(nbformat.read(p, as_version=4)), output_kinds(nbformat.read(ref, as_version=4))
        if len(mine) != len(theirs):
            bad.append(f"{name}: {len(mine)} code cells, {len(theirs)} in {ref}")
            continue
        for i, (a, b) in enumerate(zip(mine, theirs), 1):
            if a != b:
                bad.append(f"{name}: code cell {i} showed {sorted(a)}, in {ref} {sorted(b)}")
    return report(bad, f"{len(paths)} notebook(s): every cell showed the same kinds of output as in {reference_dir}")


# The messages that show a running cell is alive.
PROGRESS = ("stream", "display_data", "update_display_data", "execute_result", "clear_output", "error")
DEFAULT_NO_PROGRESS = 600


def make_client(nb, name, timeout, kernel, cwd):
    from nbclient import NotebookClient

    class EchoingClient(NotebookClient):
        """Echoes stream output and (throttled) live display updates to the console as they arrive."""

        last_echo = {}
        partial = ""
        running = None         # index of the cell executing, None between cells
        last_progress = 0.0    # time.monotonic() of the running cell's start or last output
        stalled = None         # (cell index, seconds without progress) once the watchdog stopped the kernel

        async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
            self.last_progress = time.monotonic()
            self.running = cell_index
            try:
                return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
            finally:
                self.running = None

        def echo(self, text):
            for line in text.rstrip("\n").split("\n"):
                print(f"  [{name}] {line}", flush=True)

        def process_message(self, msg, cell, cell_index):
            t = msg["msg_type"]
            content = msg.get("content", {})
            if t in PROGRESS:
                self.last_progress = time.monotonic()
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

    return EchoingClient(nb, timeout=timeout or None, kernel_name=kernel, resources={"metadata": {"path": cwd}})


def watch(client, limit, stop):
    """Stops the kernel of a cell that made no progress for `limit` seconds (a thread; `stop` ends it)."""
    while not stop.wait(min(1.0, limit / 4)):
        running, idle = client.running, time.monotonic() - client.last_progress
        if running is None or idle <= limit:
            continue
        client.stalled = (running, idle)
        process = getattr(getattr(client.km, "provisioner", None), "process", None)
        if process is not None:
            process.kill()  # nbclient sees the dead kernel within a second and ends the notebook
        return


def stall_message(client, nb, name, limit):
    index, idle = client.stalled
    first = (nb.cells[index].source.strip().splitlines() or [""])[0][:80]
    return (f"{name}: cell {index} ({first!r}) made no progress (no output, no display update) for {idle:.0f} s "
            f"and was stopped. A slow machine is not an error: raise the limit with --no-progress-timeout SECONDS "
            f"(0 = no limit; or MINITRON_NO_PROGRESS_TIMEOUT).")


def fingerprint(nb):
    """What a finished run is valid for: the notebook's code and the budget."""
    code = "\n\x00".join(c.source for c in nb.cells if c.cell_type == "code")
    return hashlib.sha256((os.environ.get("MINITRON_BUDGET", "") + "\x00" + code).encode("utf-8")).hexdigest()


def finished_before(out_nb, nb):
    """True if `out_nb` is this notebook, executed to the end by an earlier run (run_notebooks' marker)."""
    if not os.path.isfile(out_nb):
        return False
    try:
        done = nbformat.read(out_nb, as_version=4).metadata.get("minitron_run", {})
    except Exception:  # a half-written or foreign file: run again
        return False
    return done.get("finished") is True and done.get("fingerprint") == fingerprint(nb)


# nbconvert's lab template with MathJax 3 inlined in place of its CDN MathJax 2 <script src>: the same delimiters
# and options as nbconvert's configuration ($...$, $$...$$, \(...\), \[...\], AMS numbering).
MATHJAX_TEMPLATE = r"""{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_mathjax -%}
<script>
window.MathJax = {
  tex: {inlineMath: [['$', '$'], ['\\(', '\\)']], displayMath: [['$$', '$$'], ['\\[', '\\]']],
        processEscapes: true, processEnvironments: true, tags: 'ams'},
  svg: {fontCache: 'global'},
  options: {enableMenu: false}
};
</script>
<script>{{ resources.minitron_mathjax }}</script>
{%- endblock html_head_js_mathjax -%}
"""


def html_exporter(mathjax_path):
    """nbconvert's HTMLExporter; with MathJax inlined when the file is given (else nbconvert's CDN link)."""
    from nbconvert import HTMLExporter
    if not mathjax_path:
        print("run_notebooks.py: no MathJax file (--mathjax / MINITRON_MATHJAX; tools/fetch-mathjax.sh): the HTML "
              "exports load MathJax from a CDN and show raw $...$ offline", file=sys.stderr, flush=True)
        return HTMLExporter(), {}
    import jinja2
    with open(mathjax_path, encoding="utf-8") as f:
        js = f.read().replace("</script", "<\\/script")
    exporter = HTMLExporter(extra_loaders=[jinja2.DictLoader({"minitron-offline.html.j2": MATHJAX_TEMPLATE})],
                            template_file="minitron-offline.html.j2")
    return exporter, {"minitron_mathjax": js}


def run(args):
    os.makedirs(args.out_dir, exist_ok=True)
    total_start = time.monotonic()
    times = []
    status = 0
    exporter, extra = None, {}
    limit = args.no_progress_timeout
    print("== no-progress limit: " + (f"a cell fails after {limit:g} s without output or display update" if limit > 0
          else "none") + " (--no-progress-timeout SECONDS, 0 = none; MINITRON_NO_PROGRESS_TIMEOUT)", flush=True)
    resuming = args.resume
    for i, path in enumerate(args.notebooks, 1):
        name = os.path.splitext(os.path.basename(path))[0]
        nb = nbformat.read(path, as_version=4)
        cwd = os.path.dirname(os.path.abspath(path))
        out_nb = os.path.join(args.out_dir, name + ".ipynb")
        if resuming and finished_before(out_nb, nb):
            print(f"== [{i}/{len(args.notebooks)}] {name}: finished in an earlier run, skipped ({out_nb})", flush=True)
            times.append((name, 0.0, True))
            continue
        resuming = False  # everything after a notebook that runs depends on what it writes: run it too
        print(f"== [{i}/{len(args.notebooks)}] {name}: started at +{time.monotonic() - total_start:.0f} s", flush=True)
        t0 = time.monotonic()
        client = make_client(nb, name, args.timeout, args.kernel, cwd)
        error = None
        stop = threading.Event()
        if limit > 0:
            threading.Thread(target=watch, args=(client, limit, stop), daemon=True).start()
        try:
            client.execute()
        except Exception as e:  # CellExecutionError, DeadKernelError, timeouts
            error = e
        finally:
            stop.set()
        if client.stalled is not None:
            error = stall_message(client, nb, name, limit)
        elapsed = time.monotonic() - t0
        nb.metadata["minitron_run"] = {"finished": error is None, "fingerprint": fingerprint(nb)}
        nbformat.write(nb, out_nb)
        written = [out_nb]
        if args.html:
            if exporter is None:
                exporter, extra = html_exporter(args.mathjax)
            body, _ = exporter.from_notebook_node(nb, resources=dict(extra))
            out_html = os.path.join(args.out_dir, name + ".html")
            with open(out_html, "w", encoding="utf-8") as f:
                f.write(body)
            written.append(out_html)
        problems = output_problems(nb, name) if error is None and args.check_outputs else []
        for p in problems:
            print(f"FAIL {p}", file=sys.stderr, flush=True)
        if problems:  # the notebook ran: go on with the next one, but fail the run
            status = 1
        times.append((name, elapsed, error is None and not problems))
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
    ap.add_argument("--mathjax", default=os.environ.get("MINITRON_MATHJAX"),
                    help="MathJax 3 single-file bundle to inline into the HTML exports (default $MINITRON_MATHJAX)")
    ap.add_argument("--no-progress-timeout", type=float, metavar="SECONDS", default=None,
                    help="fail a cell after this many seconds without output or display update (default "
                         f"$MINITRON_NO_PROGRESS_TIMEOUT, else {DEFAULT_NO_PROGRESS}; 0 = no limit)")
    ap.add_argument("--timeout", type=int, default=0,
                    help="seconds a single cell may run in all (default 0 = no limit: see --no-progress-timeout)")
    ap.add_argument("--resume", action="store_true",
                    help="skip notebooks an earlier run into --out-dir finished (until the first that runs)")
    ap.add_argument("--kernel", default="java")
    ap.add_argument("--check-stripped", action="store_true")
    ap.add_argument("--check-outputs", action="store_true",
                    help="fail on object identities, lines split into pieces and INFO log lines in outputs")
    ap.add_argument("--check-executed", action="store_true",
                    help="only check the outputs of already executed notebooks (as --check-outputs)")
    ap.add_argument("--compare-kinds", metavar="REFERENCE_DIR",
                    help="only check that executed notebooks showed the same kinds of output as those in REFERENCE_DIR")
    args = ap.parse_args()
    if args.no_progress_timeout is None:
        env = os.environ.get("MINITRON_NO_PROGRESS_TIMEOUT", "").strip()
        try:
            args.no_progress_timeout = float(env) if env else DEFAULT_NO_PROGRESS
        except ValueError:
            print(f"run_notebooks.py: MINITRON_NO_PROGRESS_TIMEOUT must be a number of seconds, got {env!r}",
                  file=sys.stderr)
            return 2
    if args.no_progress_timeout < 0 or args.timeout < 0:
        print("run_notebooks.py: --no-progress-timeout and --timeout take seconds >= 0 (0 = no limit)", file=sys.stderr)
        return 2
    for p in args.notebooks:
        if not os.path.isfile(p):
            print(f"run_notebooks.py: no such notebook: {p}", file=sys.stderr)
            return 2
    if args.check_stripped:
        return check_stripped(args.notebooks)
    if args.check_executed:
        return check_outputs(args.notebooks)
    if args.compare_kinds:
        return compare_kinds(args.compare_kinds, args.notebooks)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
