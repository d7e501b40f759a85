"""Opens each exported notebook (HTML) in headless Chromium, offline, and checks what a reader would see.

    check_html.py [--screenshots DIR] [--chromium PATH] HTML...

For every file: the formulas were typeset (each markdown cell whose source text holds $...$ math has MathJax
output, no raw $...$ is left, no TeX error), and every <img> loaded (naturalWidth > 0). Chromium runs with
every host name unresolvable, so a page that needs the network fails. With --screenshots, DIR/NAME.png keeps
the top of each page as Chromium drew it. Exits non-zero, listing every failure.
"""
import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from bs4 import BeautifulSoup

# Runs after MathJax finished (or at load when there is no MathJax) and leaves its findings on <html>.
PROBE = """
<script>
(function () {
  function report() {
    var imgs = Array.prototype.slice.call(document.images);
    var bad = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); })
                  .map(function (i) { return (i.getAttribute('src') || '').slice(0, 80); });
    document.documentElement.setAttribute('data-minitron-check', JSON.stringify(
        {images: imgs.length, brokenImages: bad, mathjax: !!(window.MathJax && window.MathJax.startup)}));
  }
  window.addEventListener('load', function () {
    var mj = window.MathJax && window.MathJax.startup && window.MathJax.startup.promise;
    if (mj) mj.then(report, report); else report();
  });
})();
</script>
"""
RAW_MATH = re.compile(r"\$\$?[^$]+?\$\$?")
MARKDOWN = {"class": "jp-MarkdownOutput"}


def markdown_texts(soup):
    """The visible text of each rendered markdown cell, MathJax's output left out."""
    texts = []
    for md in soup.find_all("div", attrs=MARKDOWN):
        typeset = len(md.find_all("mjx-container"))
        for c in md.find_all("mjx-container"):
            c.decompose()
        texts.append((md.get_text(" "), typeset))
    return texts


def check(path, chromium, screenshots, profile):
    name = os.path.splitext(os.path.basename(path))[0]
    with open(path, encoding="utf-8") as f:
        source = f.read()
    before = [(t, n) for t, n in markdown_texts(BeautifulSoup(source, "html.parser"))]
    with_math = [i for i, (t, _) in enumerate(before) if RAW_MATH.search(t)]

    probed = os.path.join(profile, name + ".probed.html")
    with open(probed, "w", encoding="utf-8") as f:
        f.write(source.replace("</body>", PROBE + "</body>", 1) if "</body>" in source else source + PROBE)
    cmd = [chromium, "--headless", "--disable-gpu", "--no-sandbox", "--user-data-dir=" + os.path.join(profile, "p"),
           "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=30000", "--window-size=1280,3000",
           "--hide-scrollbars"]
    if screenshots:
        cmd.append("--screenshot=" + os.path.join(screenshots, name + ".png"))
    cmd += ["--dump-dom", "file://" + os.path.abspath(probed)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    if p.returncode != 0:
        return [f"{name}: chromium exited {p.returncode}: {p.stderr[-500:]}"]
    dom = BeautifulSoup(p.stdout, "html.parser")
    problems = []
    found = dom.html.get("data-minitron-check") if dom.html else None
    if not found:
        return [f"{name}: the page never finished loading (no probe result)"]
    result = json.loads(html.unescape(found))
    for src in result["brokenImages"]:
        problems.append(f"{name}: an image did not load: {src}...")
    errors = dom.find_all("mjx-merror")
    if errors:
        problems.append(f"{name}: {len(errors)} TeX error(s), first: {errors[0].get_text()[:80]!r}")
    after = markdown_texts(dom)
    if with_math and not result["mathjax"]:
        problems.append(f"{name}: {len(with_math)} markdown cell(s) with math but MathJax did not start")
    for i in with_math:
        text, typeset = after[i] if i < len(after) else ("", 0)
        if typeset == 0:
            problems.append(f"{name}: markdown cell {i + 1} holds math but nothing was typeset")
        raw = RAW_MATH.search(text)
        if raw:
            problems.append(f"{name}: markdown cell {i + 1} still shows raw math: {raw.group(0)[:80]!r}")
    formulas = sum(n for _, n in after)
    status = "FAIL" if problems else "ok  "
    print(f"{status} {name}: {formulas} formulas typeset in {len(with_math)} markdown cells, "
          f"{result['images']} images loaded" + (f", screenshot {name}.png" if screenshots else ""), flush=True)
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("html", nargs="+")
    ap.add_argument("--screenshots", help="folder for one PNG per page")
    ap.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser"))
    args = ap.parse_args()
    if not args.chromium:
        print("check_html.py: no chromium on PATH (Debian: apt-get install chromium)", file=sys.stderr)
        return 2
    if args.screenshots:
        os.makedirs(args.screenshots, exist_ok=True)
    problems = []
    with tempfile.TemporaryDirectory() as profile:
        for path in args.html:
            problems += check(path, args.chromium, args.screenshots, profile)
    for pr in problems:
        print("FAIL " + pr)
    print(f"html: {len(args.html) - len({pr.split(':')[0] for pr in problems})} passed, "
          f"{len({pr.split(':')[0] for pr in problems})} failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
