"""Issue 18 case 16: the notebook runner fails a cell on lack of progress, never on total time, and resumes.

With a 3 s no-progress limit and the real Java kernel ("java", or $KERNEL_NAME):
  - a cell printing a line every second for 8 s (far longer than the limit) passes;
  - a cell sleeping silently for 10 minutes fails promptly with the no-progress message and the resume hint
    (the runner stops the kernel; it does not hang);
  - a rerun with --resume skips the notebook that finished and runs the failed one again.

    python -m unittest kernels/src/test/python/test_no_progress.py      (run by kernels/test-kernel.sh)
"""
import os
import subprocess
import sys
import tempfile
import time
import unittest

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

RUNNER = os.path.join(os.path.dirname(__file__), "..", "..", "..", "run_notebooks.py")
KERNEL = os.environ.get("KERNEL_NAME", "java")
LIMIT = "3"


class NoProgressTimeoutTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.out = os.path.join(self.dir, "executed")
        self.slow = self.notebook("a_slow_but_alive", """
            for (int i = 1; i <= 8; i++) {
                Thread.sleep(1000);
                System.out.println("step " + i + "/8");
            }""")
        self.silent = self.notebook("b_silent", "Thread.sleep(600_000);")

    def notebook(self, name, source):
        path = os.path.join(self.dir, name + ".ipynb")
        nbformat.write(new_notebook(cells=[new_code_cell("int x = 1;"), new_code_cell(source)]), path)
        return path

    def run_runner(self, *args):
        t0 = time.monotonic()
        p = subprocess.run([sys.executable, RUNNER, "--kernel", KERNEL, "--out-dir", self.out,
                            "--no-progress-timeout", LIMIT, *args], capture_output=True, text=True, timeout=300)
        return p, time.monotonic() - t0

    def test_slow_cell_with_progress_passes_silent_cell_fails_promptly_and_a_rerun_resumes(self):
        p, _ = self.run_runner(self.slow)
        self.assertEqual(0, p.returncode, p.stdout + p.stderr)
        self.assertIn("a cell fails after 3 s without output or display update", p.stdout)
        self.assertIn("[a_slow_but_alive] step 8/8", p.stdout)

        p, seconds = self.run_runner("--resume", self.slow, self.silent)
        self.assertEqual(1, p.returncode, p.stdout + p.stderr)
        self.assertIn("a_slow_but_alive: finished in an earlier run, skipped", p.stdout)
        self.assertIn("b_silent: cell 1 ('Thread.sleep(600_000);') made no progress", p.stderr)
        self.assertIn("--no-progress-timeout SECONDS", p.stderr)
        self.assertLess(seconds, 120, "stopped promptly, not after the 10 minute sleep")

        p, _ = self.run_runner("--resume", self.slow, self.silent)
        self.assertIn("a_slow_but_alive: finished in an earlier run, skipped", p.stdout)
        self.assertIn("[2/2] b_silent: started", p.stdout, "the failed notebook runs again")
        self.assertEqual(1, p.returncode)

    def test_no_limit_and_bad_values(self):
        p = subprocess.run([sys.executable, RUNNER, "--no-progress-timeout", "-1", self.slow],
                           capture_output=True, text=True)
        self.assertEqual(2, p.returncode)
        p = subprocess.run([sys.executable, RUNNER, self.slow], capture_output=True, text=True,
                           env={**os.environ, "MINITRON_NO_PROGRESS_TIMEOUT": "soon"})
        self.assertEqual(2, p.returncode)
        self.assertIn("MINITRON_NO_PROGRESS_TIMEOUT must be a number", p.stderr)


if __name__ == "__main__":
    unittest.main()
