"""Driven by TestPsycopg: exercises psycopg 3 against Strand. Prints OK
lines; any failure raises and exits non-zero."""
import datetime
import decimal
import sys
import uuid

import psycopg
from psycopg.types.json import Jsonb

dsn = sys.argv[1]
with psycopg.connect(dsn, autocommit=True) as conn:
    conn.execute("CREATE TABLE py_items (id bigint PRIMARY KEY, name text, price numeric(10,2), at timestamptz, u uuid, doc jsonb, ok bool)")
    now = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=datetime.timezone.utc)
    u = uuid.UUID("12345678-1234-5678-1234-567812345678")
    with conn.cursor() as cur:
        # Server-side parameters, text and binary.
        cur.executemany("INSERT INTO py_items VALUES (%s, %s, %s, %s, %s, %s, %s)",
                        [(i, f"item {i}", decimal.Decimal("1.25") * i, now, u, Jsonb({"i": i}), i % 2 == 0) for i in range(1, 51)])
        cur.execute("SELECT id, name, price, at, u, doc, ok FROM py_items WHERE id = %s", (7,))
        row = cur.fetchone()
        assert row == (7, "item 7", decimal.Decimal("8.75"), now, u, {"i": 7}, False), row
        cur.execute("SELECT id, price FROM py_items WHERE id = %s", (8,), binary=True)
        assert cur.fetchone() == (8, decimal.Decimal("10.00"))
        print("OK parameters")
        # Metadata: cursor.description and the catalog.
        cur.execute("SELECT id, name FROM py_items LIMIT 1")
        assert [d.name for d in cur.description] == ["id", "name"], cur.description
        assert cur.description[0].type_code == 20
        cur.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position", ("py_items",))
        cols = cur.fetchall()
        assert cols[0] == ("id", "bigint") and cols[2] == ("price", "numeric"), cols
        info = psycopg.types.TypeInfo.fetch(conn, "jsonb")
        assert info is not None and info.oid == 3802, info
        print("OK metadata")
    # Transactions.
    with conn.transaction():
        conn.execute("UPDATE py_items SET name = 'seven' WHERE id = 7")
    assert conn.execute("SELECT name FROM py_items WHERE id = 7").fetchone() == ("seven",)
    print("OK transaction")
    # COPY in both directions, text and binary.
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE py_copy (id bigint PRIMARY KEY, name text, price numeric(10,2))")
        with cur.copy("COPY py_copy (id, name, price) FROM STDIN") as copy:
            for i in range(1, 1001):
                copy.write_row((i, f"row {i}", decimal.Decimal("0.50") * i))
        with cur.copy("COPY py_copy (id, name, price) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["int8", "text", "numeric"])
            for i in range(1001, 1101):
                copy.write_row((i, None, decimal.Decimal("1.00")))
        cur.execute("SELECT count(*), sum(price), count(name) FROM py_copy")
        assert cur.fetchone() == (1100, decimal.Decimal("250350.00"), 1000)
        out = []
        with cur.copy("COPY (SELECT id, name FROM py_copy WHERE id <= 3 ORDER BY id) TO STDOUT") as copy:
            for row in copy.rows():
                out.append(row)
        assert out == [("1", "row 1"), ("2", "row 2"), ("3", "row 3")], out
    print("OK copy")

# Server-side (named) cursors need DECLARE/FETCH.
with psycopg.connect(dsn) as conn:
    try:
        with conn.cursor(name="items") as cur:
            cur.itersize = 10
            cur.execute("SELECT id FROM py_items ORDER BY id")
            ids = [r[0] for r in cur]
            assert ids == list(range(1, 51)), ids
        print("OK server-side cursor")
    except psycopg.Error as e:
        print("UNSUPPORTED server-side cursor:", e.sqlstate, e)
