#!/usr/bin/env python3
"""Checks that the Arrow files of a `minitron importance` run are valid Arrow IPC files that pyarrow
and pandas read, with the documented columns and types.

Usage:  python tools/check_arrow.py RUN_DIR

Prints one JSON object: per file its row count, column names, and (for importance.arrow) the sum
of the score column and the distinct metrics, read by pyarrow and by pandas independently.
Exits non-zero with a message on stderr when a file is missing, unreadable or mis-typed.
Needs only pyarrow and pandas (tools/requirements-arrow-check.txt); no project code.
"""
import json
import math
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.ipc as ipc

SCHEMAS = {
    "importance.arrow": {
        "run_id": pa.string(), "layer": pa.int32(), "axis": pa.string(), "unit": pa.int32(),
        "metric": pa.string(), "batch_agg": pa.string(), "seq_agg": pa.string(), "score": pa.float64(),
        "n_samples": pa.int32(), "n_tokens": pa.int64(),
    },
    "accumulators.arrow": {
        "run_id": pa.string(), "layer": pa.int32(), "site": pa.string(), "quantity": pa.string(),
        "unit": pa.int32(), "seq_agg": pa.string(), "count": pa.int64(), "n_tokens": pa.int64(),
        "sum": pa.float64(), "sumsq": pa.float64(), "sum_exact": pa.string(), "sumsq_exact": pa.string(),
    },
    "agreement.arrow": None,
    "stability.arrow": None,
}
REQUIRED = ("importance.arrow", "accumulators.arrow")


def fail(msg):
    print("check_arrow: " + msg, file=sys.stderr)
    sys.exit(1)


def check(path, schema):
    with pa.memory_map(str(path), "r") as src:
        reader = ipc.open_file(src)  # the random-access IPC *file* format ("ARROW1" magic)
        table = reader.read_all()
        meta = {k.decode(): v.decode() for k, v in (reader.schema.metadata or {}).items()}
    if schema is not None:
        for name, typ in schema.items():
            if name not in table.column_names:
                fail(f"{path}: missing column {name!r} (has {table.column_names})")
            if table.schema.field(name).type != typ:
                fail(f"{path}: column {name!r} is {table.schema.field(name).type}, expected {typ}")
    frame = pd.read_feather(path)  # pandas reads Arrow IPC files as Feather v2
    if len(frame) != table.num_rows or list(frame.columns) != table.column_names:
        fail(f"{path}: pandas and pyarrow disagree ({len(frame)} vs {table.num_rows} rows)")
    out = {"rows": table.num_rows, "columns": table.column_names, "run_id": meta.get("run_id")}
    if path.name == "importance.arrow":
        scores = table.column("score").to_pylist()
        if table.num_rows == 0:
            fail(f"{path}: no rows")
        if any(s is None or not math.isfinite(s) for s in scores):
            fail(f"{path}: non-finite or missing scores")
        out["score_sum"] = math.fsum(scores)
        out["score_sum_pandas"] = float(frame["score"].sum())
        out["metrics"] = sorted(set(table.column("metric").to_pylist()))
        out["axes"] = sorted(set(frame["axis"]))
    return out


def main(argv):
    if len(argv) != 2:
        fail("usage: check_arrow.py RUN_DIR")
    run = Path(argv[1])
    result = {"pyarrow": pa.__version__, "pandas": pd.__version__, "files": {}}
    for name, schema in SCHEMAS.items():
        path = run / name
        if not path.exists():
            if name in REQUIRED:
                fail(f"{path}: missing")
            continue
        result["files"][name] = check(path, schema)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv)
