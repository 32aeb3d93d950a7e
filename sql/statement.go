package sql

import (
	"github.com/pingcap/tidb/pkg/parser/ast"
)

// Statement is one parsed statement: a TiDB AST wrapped with Strand's
// additions (Query, Insert, Update, Delete) or one of Strand's own
// statements. Statements may come from the parse cache and be shared:
// callers must not mutate them or their ASTs.
type Statement interface {
	StmtInfo() *Info
}

// Info is what every statement records.
type Info struct {
	// Text is the statement's original text; Offset is its byte offset in
	// the query string given to Parse.
	Text   string
	Offset int
	// NumParams is the highest $n the statement uses (PostgreSQL's count).
	NumParams int
	// Params maps TiDB parameter markers to Postgres parameters: the
	// marker with Order i (test_driver.ParamMarkerExpr.Order) is $Params[i].
	// Orders are unique across all the ASTs of one statement.
	Params []int
	// Translated is the text handed to TiDB, one entry per TiDB parse.
	Translated []string
}

// StmtInfo returns i; it makes every statement type a Statement.
func (i *Info) StmtInfo() *Info { return i }

// ObjectName is a possibly schema-qualified name.
type ObjectName struct {
	Schema string
	Name   string
}

func (n ObjectName) String() string {
	if n.Schema == "" {
		return quoteIdentIfNeeded(n.Name)
	}
	return quoteIdentIfNeeded(n.Schema) + "." + quoteIdentIfNeeded(n.Name)
}

func quoteIdentIfNeeded(s string) string {
	if isPlainWord(s) && !reserved[s] {
		return s
	}
	return quoteIdent(s)
}

// Query is a SELECT, a set operation (UNION ...) or TABLE t, parsed by
// TiDB: AST is *ast.SelectStmt or *ast.SetOprStmt.
type Query struct {
	Info
	AST ast.StmtNode
}

// Insert is INSERT with PostgreSQL's additions.
type Insert struct {
	Info
	AST           *ast.InsertStmt
	Alias         string // INSERT INTO t AS alias
	DefaultValues bool   // DEFAULT VALUES (AST has an empty row)
	OnConflict    *OnConflict
	Returning     []*ast.SelectField
}

// OnConflict is INSERT's ON CONFLICT clause. In Set and Where, the row
// proposed for insertion is the table "excluded".
type OnConflict struct {
	Columns  []string // the conflict target; empty means any unique key
	DoUpdate bool     // DO UPDATE; false means DO NOTHING
	Set      []*ast.Assignment
	Where    ast.ExprNode
}

// Update is UPDATE ... [RETURNING].
type Update struct {
	Info
	AST       *ast.UpdateStmt
	Returning []*ast.SelectField
}

// Delete is DELETE ... [RETURNING].
type Delete struct {
	Info
	AST       *ast.DeleteStmt
	Returning []*ast.SelectField
}

// CreateTable is CREATE TABLE with PostgreSQL column types.
type CreateTable struct {
	Info
	Name        ObjectName
	IfNotExists bool
	Columns     []*ColumnDef
	// PrimaryKey lists the key columns from a table constraint or a
	// column's PRIMARY KEY.
	PrimaryKey []string
	Checks     []Check
	// AppendOnlyKey is Strand's APPEND ONLY KEY (cols): an event stream
	// keyed by these columns. Nil for a keyed (or unkeyed) table.
	AppendOnlyKey []string
	// Options are WITH (name = 'value', ...), names folded, values as text.
	Options []Option
}

// ColumnDef is one column of CREATE TABLE or ALTER TABLE ADD COLUMN.
type ColumnDef struct {
	Name string
	// Type is the PostgreSQL type name as written, normalised (see
	// typeName): "numeric(10,2)", "timestamp with time zone", "text[]".
	Type       string
	NotNull    bool
	PrimaryKey bool
	Default    ast.ExprNode
	Checks     []Check
}

// Check is a CHECK constraint.
type Check struct {
	Name string
	Expr ast.ExprNode
}

// Option is a name and a value from a WITH (...) or COPY option list.
type Option struct {
	Name  string
	Value string
}

// AlterTable is ALTER TABLE with one or more actions.
type AlterTable struct {
	Info
	Name     ObjectName
	IfExists bool
	Actions  []AlterAction
	// Object is what the statement names: ObjTable (ALTER TABLE),
	// ObjView (ALTER VIEW: RENAME TO, RENAME COLUMN) or
	// ObjMaterializedView (RENAME TO).
	Object ObjectKind
}

// AlterKind is the kind of an ALTER TABLE action.
type AlterKind uint8

// ALTER TABLE actions.
const (
	AlterAddColumn AlterKind = iota + 1
	AlterDropColumn
	AlterRenameColumn
	AlterRenameTable
	// AlterSetOptions is SET (name = value, ...): table options such as
	// notify (docs/SUBSCRIBE.md); RESET (name, ...) removes them.
	AlterSetOptions
	AlterResetOptions
	// ALTER [COLUMN] name SET DEFAULT e (Column.Default), DROP DEFAULT,
	// DROP NOT NULL.
	AlterSetDefault
	AlterDropDefault
	AlterDropNotNull
)

func (k AlterKind) String() string {
	switch k {
	case AlterAddColumn:
		return "ADD COLUMN"
	case AlterDropColumn:
		return "DROP COLUMN"
	case AlterRenameColumn:
		return "RENAME COLUMN"
	case AlterRenameTable:
		return "RENAME TO"
	case AlterSetOptions:
		return "SET"
	case AlterResetOptions:
		return "RESET"
	case AlterSetDefault:
		return "ALTER COLUMN SET DEFAULT"
	case AlterDropDefault:
		return "ALTER COLUMN DROP DEFAULT"
	case AlterDropNotNull:
		return "ALTER COLUMN DROP NOT NULL"
	}
	return "?"
}

// AlterAction is one ALTER TABLE action.
type AlterAction struct {
	Kind        AlterKind
	Column      *ColumnDef // AlterAddColumn
	Name        string     // the column dropped or renamed
	NewName     string     // AlterRenameColumn, AlterRenameTable
	IfExists    bool       // DROP COLUMN IF EXISTS
	IfNotExists bool       // ADD COLUMN IF NOT EXISTS
	Cascade     bool
	Options     []Option // AlterSetOptions, AlterResetOptions
}

// ObjectKind names what a DROP drops.
type ObjectKind string

// Object kinds.
const (
	ObjTable            ObjectKind = "TABLE"
	ObjSchema           ObjectKind = "SCHEMA"
	ObjMaterializedView ObjectKind = "MATERIALIZED VIEW"
	ObjView             ObjectKind = "VIEW"
	ObjRole             ObjectKind = "ROLE"
)

// Drop is DROP TABLE / SCHEMA / VIEW / MATERIALIZED VIEW / ROLE / USER.
type Drop struct {
	Info
	Kind     ObjectKind
	Names    []ObjectName
	IfExists bool
	// Cascade is DROP ... CASCADE; RESTRICT (the default) leaves it false.
	Cascade bool
}

// CreateSchema is CREATE SCHEMA [IF NOT EXISTS] name.
type CreateSchema struct {
	Info
	Name        string
	IfNotExists bool
}

// CreateMaterializedView is CREATE [OR REPLACE] MATERIALIZED VIEW.
type CreateMaterializedView struct {
	Info
	Name        ObjectName
	OrReplace   bool
	IfNotExists bool
	Columns     []string          // optional (col, ...) after the name
	Query       ast.ResultSetNode // *ast.SelectStmt or *ast.SetOprStmt
	QueryText   string            // the original text of the query
}

// Truncate is TRUNCATE [TABLE] name, ...: every row of each table deleted
// in one transaction.
type Truncate struct {
	Info
	Names []ObjectName
}

// CreateTableAs is CREATE TABLE name [(col, ...)] AS query [WITH [NO]
// DATA]: a table (with no key: a stream) of the query's columns and, with
// data, its rows.
type CreateTableAs struct {
	Info
	Name        ObjectName
	IfNotExists bool
	Columns     []string
	Query       ast.ResultSetNode
	QueryText   string
	WithData    bool
}

// CreateView is CREATE [OR REPLACE] VIEW: a named query, planned into
// every query that reads it.
type CreateView struct {
	Info
	Name      ObjectName
	OrReplace bool
	Columns   []string          // optional (col, ...) after the name
	Query     ast.ResultSetNode // *ast.SelectStmt or *ast.SetOprStmt
	QueryText string            // the original text of the query
}

// RefreshMaterializedView is REFRESH MATERIALIZED VIEW [CONCURRENTLY] name.
type RefreshMaterializedView struct {
	Info
	Name ObjectName
	// Concurrently is REFRESH ... CONCURRENTLY, accepted like the plain
	// form (neither has anything to do).
	Concurrently bool
}

// Role is CREATE/ALTER ROLE or USER.
type Role struct {
	Info
	Alter bool // ALTER rather than CREATE
	User  bool // USER (CREATE USER implies LOGIN)
	Name  string
	// Password is nil when not given; PASSWORD NULL gives a nil Password
	// and PasswordNull.
	Password     *string
	PasswordNull bool
	// Options are the other role options, upper case: LOGIN, NOLOGIN,
	// SUPERUSER, CREATEDB, CONNECTION LIMIT (Value), VALID UNTIL (Value).
	Options []Option
}

// Show is SHOW name or SHOW ALL (Name "all").
type Show struct {
	Info
	Name string
}

// Set is SET [SESSION|LOCAL] name {TO|=} value, SET TIME ZONE and SET NAMES.
type Set struct {
	Info
	Local bool
	Name  string // folded; SET TIME ZONE gives "timezone"
	// Values are the values as text (strings unquoted, identifiers folded,
	// numbers as written); nil with Default.
	Values  []string
	Default bool
}

// Reset is RESET name or RESET ALL (Name "all").
type Reset struct {
	Info
	Name string
}

// TransactionKind is the kind of a transaction control statement.
type TransactionKind uint8

// Transaction control statements.
const (
	TxBegin TransactionKind = iota + 1
	TxCommit
	TxRollback
	TxSavepoint
	TxRelease
	TxRollbackTo
	// TxSetCharacteristics is SET SESSION CHARACTERISTICS AS TRANSACTION;
	// TxSetTransaction is SET TRANSACTION.
	TxSetCharacteristics
	TxSetTransaction
)

func (k TransactionKind) String() string {
	switch k {
	case TxBegin:
		return "BEGIN"
	case TxCommit:
		return "COMMIT"
	case TxRollback:
		return "ROLLBACK"
	case TxSavepoint:
		return "SAVEPOINT"
	case TxRelease:
		return "RELEASE"
	case TxRollbackTo:
		return "ROLLBACK TO"
	case TxSetCharacteristics:
		return "SET SESSION CHARACTERISTICS"
	case TxSetTransaction:
		return "SET TRANSACTION"
	}
	return "?"
}

// Transaction is BEGIN/START TRANSACTION, COMMIT/END, ROLLBACK/ABORT,
// SAVEPOINT, RELEASE, ROLLBACK TO and SET [SESSION CHARACTERISTICS AS]
// TRANSACTION.
type Transaction struct {
	Info
	Kind      TransactionKind
	Isolation string // "serializable", "repeatable read", ... or ""
	// ReadOnly and Deferrable are nil when not given.
	ReadOnly   *bool
	Deferrable *bool
	Savepoint  string
	Chain      bool // COMMIT/ROLLBACK AND CHAIN
}

// Discard is DISCARD ALL|PLANS|SEQUENCES|TEMP.
type Discard struct {
	Info
	What string
}

// Prepare is SQL-level PREPARE name [(types)] AS statement.
type Prepare struct {
	Info
	Name     string
	ArgTypes []string
	Stmt     Statement
}

// Execute is SQL-level EXECUTE name [(args)].
type Execute struct {
	Info
	Name string
	Args []ast.ExprNode
}

// Deallocate is DEALLOCATE [PREPARE] name|ALL.
type Deallocate struct {
	Info
	Name string
	All  bool
}

// Explain is EXPLAIN [ANALYZE] [VERBOSE] statement or EXPLAIN (options).
type Explain struct {
	Info
	Analyze bool
	Verbose bool
	Options []Option
	Stmt    Statement
}

// Copy is COPY table [(cols)] FROM STDIN | TO STDOUT, or COPY (query) TO
// STDOUT. Options hold both the WITH (...) and the legacy forms, names in
// lower case: format (text|csv|binary), header, delimiter, null, quote,
// escape. A flag option without a value (HEADER) has Value "true".
type Copy struct {
	Info
	Table   ObjectName
	Columns []string
	Query   Statement // COPY (query); Table is empty
	From    bool      // FROM STDIN; false is TO STDOUT
	Options []Option
}

// Subscribe is Strand's SUBSCRIBE [TO] target [, target ...] [WHERE cond]
// [WITH (name = value, ...)] (docs/SUBSCRIBE.md).
type Subscribe struct {
	Info
	// Target is the first target's name (for a pattern, its words).
	Target  ObjectName
	Targets []SubscribeTarget
	// Where filters changes by the row's columns; nil when absent.
	Where   ast.ExprNode
	Options []Option
}

// Listen is LISTEN channel.
type Listen struct {
	Info
	Channel string
}

// Unlisten is UNLISTEN channel | *.
type Unlisten struct {
	Info
	Channel string
	All     bool
}

// Notify is NOTIFY channel [, 'payload'].
type Notify struct {
	Info
	Channel string
	Payload string
}

// DeclareCursor is DECLARE name CURSOR [WITH HOLD] FOR query.
type DeclareCursor struct {
	Info
	Name  string
	Hold  bool
	Query Statement
}

// Fetch is FETCH [FORWARD] [n|ALL|NEXT] [FROM|IN] cursor [WITH (timeout =
// 'duration')].
type Fetch struct {
	Info
	Cursor string
	Count  int64 // rows to fetch; ignored with All
	All    bool
	// Options: timeout bounds how long FETCH from a SUBSCRIBE cursor waits
	// for the first change.
	Options []Option
}

// Close is CLOSE cursor | ALL.
type Close struct {
	Info
	Cursor string
	All    bool
}
