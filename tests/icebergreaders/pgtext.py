"""Render values read by an Iceberg reader as PostgreSQL prints them.

The Go test compares a reader's rows with the rows Strand returns over the
PostgreSQL protocol in text format (TimeZone UTC, IntervalStyle iso_8601),
so each value is rendered here in that text form. A kind, derived from the
reader's own schema, says what the reader's Python value stands for where
the value alone does not tell (Spark hands timestamptz values over as
naive datetimes in the process time zone, which the test sets to UTC;
float32 values arrive widened to float64).

Kinds: "tstz", "ts", "f4", "uuid", ("list", kind), or "any".

Floats are rendered as PostgreSQL's shortest round-trip form for the
magnitudes the test writes (|x| < 1e15): Python's repr without a trailing
".0". Outside that range the two switch to exponent notation at different
points, so the test keeps its values inside it.
"""

import datetime
import decimal
import math
import struct
import uuid

UTC = datetime.timezone.utc


def _float(x, f4):
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if f4:
        # The shortest decimal that reads back as the same float32.
        want = struct.unpack("f", struct.pack("f", x))[0]
        for p in range(1, 10):
            d = float("%.*g" % (p, want))
            if struct.unpack("f", struct.pack("f", d))[0] == want:
                x = d
                break
    s = repr(x)
    if s.endswith(".0"):
        s = s[:-2]
    return s


def _clock(t):
    s = "%02d:%02d:%02d" % (t.hour, t.minute, t.second)
    if t.microsecond:
        s += ("." + "%06d" % t.microsecond).rstrip("0")
    return s


def _timestamp(v, kind):
    tz = v.tzinfo is not None or kind == "tstz"
    if v.tzinfo is not None:
        v = v.astimezone(UTC)
    s = "%04d-%02d-%02d %s" % (v.year, v.month, v.day, _clock(v))
    return s + "+00" if tz else s


def _array_elem(v, kind):
    if v is None:
        return "NULL"
    s = render(v, kind)
    if s == "" or s.upper() == "NULL" or any(c in s for c in '{},"\\ \t\n'):
        s = '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return s


def render(v, kind="any"):
    """v in PostgreSQL's text output; None stays None (SQL NULL)."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "t" if v else "f"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return _float(v, kind == "f4")
    if isinstance(v, decimal.Decimal):
        return format(v, "f")
    if isinstance(v, str):
        return v
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, (bytes, bytearray)):
        if kind == "uuid" and len(v) == 16:
            return str(uuid.UUID(bytes=bytes(v)))
        return "\\x" + bytes(v).hex()
    if isinstance(v, datetime.datetime):
        return _timestamp(v, kind)
    if isinstance(v, datetime.date):
        return v.isoformat()
    if isinstance(v, datetime.time):
        return _clock(v)
    if isinstance(v, (list, tuple)):
        elem = kind[1] if isinstance(kind, tuple) else "any"
        return "{" + ",".join(_array_elem(e, elem) for e in v) + "}"
    raise TypeError("no PostgreSQL text form for %r (%s)" % (v, type(v).__name__))
