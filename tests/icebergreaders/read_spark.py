"""Read Strand's Iceberg tables with Spark through the REST catalog.

Usage: TZ=UTC python read_spark.py SPEC.json

SPEC is read_pyiceberg.py's, plus "jars": the iceberg-spark-runtime and
iceberg-aws-bundle jars. Each catalog becomes the Spark catalog
strand_<name> (org.apache.iceberg.spark.SparkCatalog, type=rest) with the
catalog's props as catalog properties; the warehouse's FileIO settings
(S3 endpoint, region, path-style access) come from the REST catalog's
loadTable config, credentials from props. Every table is read with
SELECT * FROM strand_<name>.<namespace>.<table>.

Spark runs local[1] with a small heap: the tables are small, and the test
shares two cores with everything else. TZ=UTC matters: PySpark turns
timestamptz values into naive datetimes in the process's time zone.
"""

import json
import os
import sys
import time

from pyspark.sql import SparkSession
from pyspark.sql import types as T

from pgtext import render


def kind(t):
    if isinstance(t, T.TimestampType):
        return "tstz"
    if isinstance(t, T.TimestampNTZType):
        return "ts"
    if isinstance(t, T.FloatType):
        return "f4"
    if isinstance(t, T.ArrayType):
        return ("list", kind(t.elementType))
    return "any"


def session(spec):
    b = (
        SparkSession.builder.master("local[1]")
        .appName("strand-iceberg-readers")
        # On the driver's class path rather than spark.jars: in local mode
        # the driver is the executor, and spark.jars would copy 110 MB of
        # jars through Spark's file server first.
        .config("spark.driver.extraClassPath", os.pathsep.join(spec["jars"]))
        .config("spark.driver.memory", "512m")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        # A short-lived JVM: C1 only and the serial collector start
        # faster and cost less CPU than C2 and G1 on a busy 2-core machine.
        .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC -XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", os.path.join(os.getcwd(), "spark-warehouse"))
    )
    for c in spec["catalogs"]:
        p = "spark.sql.catalog.strand_" + c["name"]
        b = b.config(p, "org.apache.iceberg.spark.SparkCatalog")
        b = b.config(p + ".type", "rest")
        b = b.config(p + ".uri", c["uri"])
        for k, v in c.get("props", {}).items():
            b = b.config(p + "." + k, v)
    s = b.getOrCreate()
    s.sparkContext.setLogLevel("ERROR")
    return s


def read_catalog(spark, c):
    cat = "strand_" + c["name"]
    ns = c["namespace"]
    out = {
        "name": c["name"],
        "namespaces": [[r[0]] for r in spark.sql("SHOW NAMESPACES IN " + cat).collect()],
        "tables": sorted(ns + "." + r["tableName"] for r in spark.sql("SHOW TABLES IN %s.%s" % (cat, ns)).collect()),
        "read": [],
    }
    try:
        spark.sql("SELECT * FROM %s.%s.%s" % (cat, ns, c["missing"])).collect()
        out["missing_error"] = ""
    except Exception as e:  # AnalysisException: TABLE_OR_VIEW_NOT_FOUND
        out["missing_error"] = type(e).__name__ + ": " + str(e).splitlines()[0]
    for name in c["tables"]:
        df = spark.sql("SELECT * FROM %s.%s.%s" % (cat, ns, name))
        fields = df.schema.fields
        kinds = [kind(f.dataType) for f in fields]
        rows = [[render(v, k) for v, k in zip(r, kinds)] for r in df.collect()]
        out["read"].append({
            "table": name,
            "columns": [f.name for f in fields],
            "types": [f.dataType.simpleString() for f in fields],
            "rows": rows,
        })
    return out


def main():
    t0 = time.time()
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    spark = session(spec)
    started = time.time() - t0
    try:
        result = {
            "reader": "spark " + spark.version,
            "catalogs": [read_catalog(spark, c) for c in spec["catalogs"]],
        }
    finally:
        spark.stop()
    result["seconds"] = round(time.time() - t0, 3)
    result["session_seconds"] = round(started, 3)
    with open(spec["out"], "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
