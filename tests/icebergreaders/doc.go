// Package icebergreaders checks that independent Iceberg readers see
// exactly the rows Strand returns: pyiceberg and Spark (pyspark with the
// iceberg-spark-runtime and iceberg-aws-bundle jars) read Strand's tables
// through the REST catalog that `strand serve` offers on its HTTP address,
// from a local warehouse folder and from an S3 server (versitygw, see
// tests/s3server).
//
// The test installs what it needs idempotently into a cache folder
// (~/.cache/strand-test, or $STRAND_TEST_CACHE): a virtualenv with the
// pinned pyiceberg, pyarrow and pyspark, and the jars fetched with mvn. It fails,
// never skips, when something cannot be installed. The Python readers
// (read_pyiceberg.py, read_spark.py) live beside it and write JSON results
// with every value rendered as PostgreSQL text (pgtext.py), which the Go
// test compares with the rows Strand returns over pgx.
package icebergreaders
