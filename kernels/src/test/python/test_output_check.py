"""Proves that run_notebooks.py --check-executed fails on planted bad notebooks and passes a clean one, and that
--compare-kinds (the JJava run against our kernel's) fails when a cell showed another kind of output.

    python -m unittest kernels/src/test/python/test_output_check.py      (run by kernels/test-kernel.sh)
"""
import os
import subprocess
import sys
import tempfile
import unittest

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

RUNNER = os.path.join(os.path.dirname(__file__), "..", "..", "..", "run_notebooks.py")


def stream(text, name="stdout"):
    return new_output("stream", name=name, text=text)


def result(text):
    return new_output("execute_result", data={"text/plain": text}, execution_count=1)


def notebook(*cells_outputs):
    nb = new_notebook(cells=[new_markdown_cell("# planted")])
    for outputs in cells_outputs:
        cell = new_code_cell("x", outputs=list(outputs))
        nb.cells.append(cell)
    return nb


class OutputCheckTest(unittest.TestCase):

    def check(self, nb):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "planted.ipynb")
            nbformat.write(nb, path)
            p = subprocess.run([sys.executable, RUNNER, "--check-executed", path], capture_output=True, text=True)
            return p.returncode, p.stdout + p.stderr

    def assert_fails(self, nb, *fragments):
        code, out = self.check(nb)
        self.assertEqual(1, code, out)
        for f in fragments:
            self.assertIn(f, out)

    def test_clean_notebook_passes(self):
        code, out = self.check(notebook(
            [stream("a whole line\nand another\n"), stream("warning\n", "stderr"), result("42")],
            [stream("last output may end mid-line")],
            [stream("first\n"), result("<a.b.Foo> (no toString(): ...)"), stream("top@1 0.5")]))
        self.assertEqual(0, code, out)

    def test_object_identity_fails(self):
        self.assert_fails(notebook([stream("ok\n")], [result("java.io.PrintStream@1b6d3586")]),
                          "cell 2", "object identity: java.io.PrintStream@1b6d3586")
        self.assert_fails(notebook([stream("model ai.djl.nn.Block@7e0ea639\n")]), "ai.djl.nn.Block@7e0ea639")
        html = new_output("display_data", data={"text/plain": "t", "text/html": "<td>Foo$Bar@abcdef12</td>"})
        self.assert_fails(notebook([html]), "Foo$Bar@abcdef12")

    def test_line_split_into_pieces_fails(self):
        # a printf sent in fragments: "run ", "abc", ": 3 rows\n"
        self.assert_fails(notebook([stream("run "), stream("abc"), stream(": 3 rows\n")]), "ends mid-line")
        # split by a display in between still counts; another stream name does not
        shown = new_output("display_data", data={"text/plain": "chart"})
        self.assert_fails(notebook([stream("loss "), shown, stream("0.5\n")]), "ends mid-line")
        code, out = self.check(notebook([stream("prompt: "), stream("oops\n", "stderr")]))
        self.assertEqual(0, code, out)

    def test_info_log_lines_fail(self):
        self.assert_fails(notebook([stream(
            "[main] INFO org.apache.arrow.memory.BaseAllocator - Debug mode disabled.\n", "stderr")]),
            "INFO log line on stderr: [main] INFO org.apache.arrow.memory.BaseAllocator")
        self.assert_fails(notebook([stream("x\nINFO: Loading engine\n", "stderr")]), "INFO log line")
        code, out = self.check(notebook([stream("[main] WARN ai.djl.X - careful\n", "stderr")]))
        self.assertEqual(0, code, out)


class CompareKindsTest(unittest.TestCase):

    def compare(self, ours, theirs):
        with tempfile.TemporaryDirectory() as ref, tempfile.TemporaryDirectory() as d:
            nbformat.write(ours, os.path.join(ref, "n.ipynb"))
            nbformat.write(theirs, os.path.join(d, "n.ipynb"))
            p = subprocess.run([sys.executable, RUNNER, "--compare-kinds", ref, os.path.join(d, "n.ipynb")],
                               capture_output=True, text=True)
            return p.returncode, p.stdout + p.stderr

    def test_same_kinds_pass(self):
        table = new_output("display_data", data={"text/plain": "t", "text/html": "<table/>"})
        png = new_output("execute_result", data={"text/plain": "chart", "image/png": "iVBOR"}, execution_count=2)
        ours = notebook([stream("a\n"), stream("b\n"), table], [png], [stream("x\n")])
        # coalesced differently, an empty result (JJava's for a cell ending in printf) counts as nothing
        theirs = notebook([table, stream("a\nb\n")], [png], [stream("x\n"), result("")])
        code, out = self.compare(ours, theirs)
        self.assertEqual(0, code, out)

    def test_other_kind_fails(self):
        html = new_output("display_data", data={"text/plain": "t", "text/html": "<table/>"})
        code, out = self.compare(notebook([html]), notebook([result("t")]))
        self.assertEqual(1, code, out)
        self.assertIn("code cell 1 showed ['text/plain'], in ", out)
        code, out = self.compare(notebook([stream("x\n")]), notebook([stream("x\n", "stderr")]))
        self.assertEqual(1, code, out)


if __name__ == "__main__":
    unittest.main()
