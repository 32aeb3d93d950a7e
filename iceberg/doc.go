// Package iceberg compacts the log into Apache Iceberg tables, so Spark,
// Trino, pyiceberg and every other Iceberg reader see Strand's tables.
//
// A Compactor (compactor.go) copies each table's durable events into
// Parquet files (arrow-go's pqarrow) and commits them as Iceberg snapshots
// (iceberg-go); every snapshot records the log range it covers in its
// summary (strand.lsn-from, strand.lsn-to), and the current snapshot's
// strand.lsn-to is the table's watermark. That makes commits exactly-once
// with no state outside Iceberg: see Compactor.
//
// Tables:
//
//	stream s (APPEND ONLY)   <schema>.s           every event: _version, _lsn, _commit_time, columns
//	keyed table t            <schema>.t__changes  every event: _op, _version, _lsn, _commit_time, columns
//	                         <schema>.t           the live rows, as SELECT * FROM t: _version, _lsn, columns
//
// Data files close at a target size; small files of earlier commits are
// merged in size tiers and old snapshots expire (maintain.go).
//
// Iceberg field ids are Strand's column IDs (stable across renames, never
// reused), so ALTER TABLE ADD/DROP/RENAME COLUMN become Iceberg schema
// evolution and older files read with nulls for columns added since. The
// type mapping is IcebergType's.
//
// The catalog is Strand's own (Catalog, catalog.go): a warehouse folder or
// S3 prefix where each table is metadata/vN.metadata.json files, and a
// commit creates the next version only if it does not exist (link(2)
// locally, a PUT with If-None-Match: * on S3), so two writers cannot both
// create vN+1. It needs no service and no database, is commit-safe on a
// local disk and on S3, and its layout is the one Spark's HadoopCatalog
// reads.
// Handler serves the warehouse through the Iceberg REST catalog protocol.
package iceberg
