"""Checks the outputs of an executed kernels/src/test/notebooks/smoke.ipynb (see kernels/test-kernel.sh).

Each code cell's id names what its outputs must show; then the whole notebook must be clean as
run_notebooks.py --check-outputs defines it (whole lines, no object identities, no INFO logging).
Exits non-zero, listing every failed check.
"""
import base64
import os
import sys

import nbformat

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
from run_notebooks import output_problems  # noqa: E402  (kernels/run_notebooks.py)


def text(outputs, kind):
    """All text of the given output kind: 'stream', 'execute_result' or 'display_data' (text/plain)."""
    parts = []
    for o in outputs:
        if o.output_type != kind:
            continue
        parts.append(o.text if kind == "stream" else o.data.get("text/plain", ""))
    return "".join(parts)


def result(outputs):
    return next((o for o in outputs if o.output_type == "execute_result"), None)


def check_compute(outs):
    r = result(outs)
    assert r is not None and r.data["text/plain"] == "42", outs


def check_state(outs):
    r = result(outs)
    assert r is not None and r.data["text/plain"] == "hello notebook 21", outs


def check_table(outs):
    r = result(outs)
    assert r is not None, outs
    html = r.data.get("text/html", "")
    assert "<table" in html and "alice" in html and "3 rows × 2 columns" in html, html
    assert html.index("alice") < html.index("carol") < html.index("bob"), "sorted by score: " + html
    assert "score" in r.data["text/plain"], r.data


def check_stream(outs):
    shown = [o for o in outs if o.output_type == "display_data"]
    assert len(shown) == 1, "one output that grew in place, not one per token: %s" % outs
    # nbclient applied every update_display_data to the output with the same display_id.
    assert shown[0].data["text/plain"] == "Generating: the quick brown fox", shown[0]
    assert "streamed 31 chars" in text(outs, "stream"), outs


def check_djl(outs):
    r = result(outs)
    assert r is not None and r.data["text/plain"] == "12.0", outs


def check_image(outs):
    r = result(outs)
    assert r is not None and "image/png" in r.data, outs
    png = base64.b64decode(r.data["image/png"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n", png[:8]


def check_html(outs):
    r = result(outs)
    assert r is not None and r.data.get("text/html") == "<b>bold</b> move", outs


def check_printf(outs):
    # a print and a printf with three arguments: one whole line, one output; the PrintStream printf returns
    # (the cell's value) shows nothing
    assert result(outs) is None, "no java.io.PrintStream@... result: %s" % outs
    streams = [o for o in outs if o.output_type == "stream"]
    assert len(streams) == 1, "one stream output, not one per fragment: %s" % outs
    assert streams[0].text == "printf as the last line: student has 1,234,567 params, loss 2.50\n", streams[0]


def check_magic(outs):
    r = result(outs)
    assert r is not None and "%maven" in r.data["text/plain"] and "%classpath" in r.data["text/plain"], outs


def check_error(outs):
    errs = [o for o in outs if o.output_type == "error"]
    assert len(errs) == 1, outs
    e = errs[0]
    assert e.ename == "CompilationException", e.ename
    tb = "\n".join(e.traceback)
    assert "incompatible types" in tb and "^" in tb, tb
    assert "at jdk." not in tb and "at org.dflib" not in tb, "no kernel stack: " + tb


def check_bfloat16(outs):
    errs = [o for o in outs if o.output_type == "error"]
    assert len(errs) == 1, outs
    e = errs[0]
    assert e.ename == "IllegalArgumentException" or "IllegalArgumentException" in "\n".join(e.traceback), e
    tb = "\n".join(e.traceback)
    assert "data type bfloat16 is refused" in tb and "aborts the JVM" in tb and "FLOAT32" in tb, tb


def check_after_bfloat16(outs):
    r = result(outs)
    assert r is not None and r.data["text/plain"] == "alive after bfloat16: x=21, sum 6.0", outs


def check_after_error(outs):
    r = result(outs)
    assert r is not None and r.data["text/plain"] == "still alive after an error: hello again", outs


CHECKS = {name[len("check_"):].replace("_", "-"): fn for name, fn in globals().items() if name.startswith("check_")}


def main(path):
    nb = nbformat.read(path, as_version=4)
    failures, seen = [], set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        check = CHECKS.get(cell.id)
        if check is None:
            failures.append("cell %s has no check" % cell.id)
            continue
        seen.add(cell.id)
        if "raises-exception" not in cell.metadata.get("tags", []):
            errors = [o for o in cell.outputs if o.output_type == "error"]
            if errors:
                failures.append("cell %s errored: %s: %s" % (cell.id, errors[0].ename, errors[0].evalue))
                continue
        try:
            check(cell.outputs)
            print("ok   %s" % cell.id)
        except AssertionError as e:
            failures.append("cell %s: %s" % (cell.id, e))
    for missing in sorted(set(CHECKS) - seen):
        failures.append("no cell %s in the notebook" % missing)
    clean = output_problems(nb, os.path.basename(path))
    failures += clean
    print("%s   clean outputs (whole lines, no object identities, no INFO logging)" % ("FAIL" if clean else "ok"))
    for f in failures:
        print("FAIL " + f)
    print("notebook: %d passed, %d failed" % (len(seen) - len([f for f in failures if f.startswith("cell")]),
                                             len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
