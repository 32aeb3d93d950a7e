"""Read Strand's Iceberg tables with pyiceberg through the REST catalog.

Usage: python read_pyiceberg.py SPEC.json

SPEC (written by readers_test.go):
  {"out": "result.json",
   "catalogs": [{"name": "local", "uri": "http://.../iceberg",
                 "props": {...extra catalog properties, e.g. S3 credentials...},
                 "namespace": "public", "tables": ["ev", ...], "missing": "nope"}]}

The result lists, per catalog, what the catalog lists, HEAD-style existence
checks, the error for a missing table, and every table scanned to Arrow with
its values rendered as PostgreSQL text (pgtext.py).
"""

import json
import sys
import time
from importlib.metadata import version

import pyarrow as pa
from pyiceberg.catalog import load_catalog
from pyiceberg.exceptions import NoSuchTableError

from pgtext import render


def kind(t):
    if pa.types.is_timestamp(t):
        return "tstz" if t.tz else "ts"
    if pa.types.is_float32(t):
        return "f4"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return ("list", kind(t.value_type))
    if isinstance(t, pa.ExtensionType) and t.extension_name == "arrow.uuid":
        return "uuid"
    if pa.types.is_fixed_size_binary(t) and t.byte_width == 16:
        return "uuid"
    return "any"


def read_catalog(c):
    cat = load_catalog(c["name"], type="rest", uri=c["uri"], **c.get("props", {}))
    ns = c["namespace"]
    out = {
        "name": c["name"],
        "namespaces": [list(n) for n in cat.list_namespaces()],
        "tables": sorted(".".join(i) for i in cat.list_tables(ns)),
        "exists": {},
        "read": [],
    }
    for name in c["tables"] + [c["missing"]]:
        out["exists"][name] = cat.table_exists((ns, name))
    try:
        cat.load_table((ns, c["missing"]))
        out["missing_error"] = ""
    except NoSuchTableError as e:
        out["missing_error"] = "NoSuchTableError: " + str(e)
    for name in c["tables"]:
        tbl = cat.load_table((ns, name))
        at = tbl.scan().to_arrow()
        kinds = [kind(f.type) for f in at.schema]
        cols = [at.column(i).to_pylist() for i in range(at.num_columns)]
        rows = [[render(v, k) for v, k in zip(r, kinds)] for r in zip(*cols)]
        out["read"].append({
            "table": name,
            "columns": at.schema.names,
            "types": [str(f.type) for f in at.schema],
            "rows": rows,
        })
    return out


def main():
    t0 = time.time()
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    result = {
        "reader": "pyiceberg " + version("pyiceberg"),
        "catalogs": [read_catalog(c) for c in spec["catalogs"]],
    }
    result["seconds"] = round(time.time() - t0, 3)
    with open(spec["out"], "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
