"""The `v` rows of a bulk statement (update_each, insert_under_parents): many rows' values, each column typed.

On PostgreSQL the rows travel as one JSON parameter that `json_to_recordset` reads. As a VALUES list every value was
a parameter that psycopg adapts and quotes one at a time in Python, and the statement's text changed with each row
count, so psycopg parsed it anew every time: a records batch of the telephony writer spent most of its CPU there
(7 ms for a hundred timeline rows). One JSON document is written by the json module's C encoder, and the statement's
text stays the same whatever the number of rows.

SQLite, the newcomer's database, keeps the VALUES list (3.33 and later run the same statements).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

import psycopg
from django.db import models
from psycopg.types.json import Json, Jsonb


def row_source(connection, columns: list[tuple[str, object]], rows: list[list]) -> tuple[str, list]:
    """(`v`'s SQL for a WITH clause, its parameters): `columns` are (name, model field giving its type), `rows`
    the values as the fields' get_db_prep_* methods gave them, in the columns' order."""
    names = [name for name, _field in columns]
    if connection.vendor == "postgresql":
        typed = ", ".join(f"{name} {field.cast_db_type(connection)}" for name, field in columns)
        document = json.dumps([dict(zip(names, row, strict=True)) for row in rows], default=_json_value)
        return f"v AS (SELECT * FROM json_to_recordset(%s::json) AS r({typed}))", [document]
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    params = [value for row in rows for value in row]
    return f"v ({', '.join(names)}) AS (VALUES {', '.join([placeholders] * len(rows))})", params


# Fields whose preparation hands a value of this Python type back unchanged (subclasses, such as an encrypted text
# field, are not among them: the exact class is looked up).
_PLAIN_FIELDS = {
    models.CharField: str, models.TextField: str, models.BooleanField: bool, models.FloatField: float,
    models.IntegerField: int, models.PositiveIntegerField: int, models.PositiveSmallIntegerField: int,
    models.SmallIntegerField: int, models.BigIntegerField: int, models.AutoField: int, models.BigAutoField: int,
    models.ForeignKey: int, models.DateTimeField: datetime,
}  # fmt: skip


def prepared(field, value, connection):
    """`field.get_db_prep_save(value, connection)`, skipping Django's work where on PostgreSQL it would return the
    value as given: None, or a value of the plain field's own type (an aware datetime for a DateTimeField). A records
    batch prepares thousands of values, nearly all of them such; the rest (encrypted text, JSON, a naive datetime,
    anything on SQLite, which stores datetimes as text) go the whole way."""
    if connection.vendor != "postgresql":
        return field.get_db_prep_save(value, connection)
    if value is None:
        return None
    kind = _PLAIN_FIELDS.get(type(field))
    if kind is not None and type(value) is kind and (kind is not datetime or value.tzinfo is not None):
        return value
    return field.get_db_prep_save(value, connection)


@dataclass(frozen=True)
class Statement:
    """A statement ready to run, and what its result rows mean to its caller."""

    sql: str
    params: list
    read: Callable[[list[tuple]], object] = list


def sent_together(connection) -> bool:
    """Whether run_together sends its statements in one query on this connection."""
    with connection.cursor() as cursor:
        return isinstance(getattr(cursor, "cursor", None), psycopg.ClientCursor)


def run_together(connection, statements: list[Statement]) -> list:
    """Run the statements in order; returns each one's `read(rows)`.

    On PostgreSQL they go in one round trip, as one query of several statements: psycopg's client-side binding
    (Django's default) writes the parameters into the text. Each round trip of the telephony writer's batch costs
    its thread the GIL, which the busy event loop gives back only after a while. Elsewhere, one after another.
    """
    if not statements:
        return []
    with connection.cursor() as cursor:
        together = len(statements) > 1 and isinstance(getattr(cursor, "cursor", None), psycopg.ClientCursor)
        if together:
            cursor.execute("; ".join(statement.sql for statement in statements),
                           [param for statement in statements for param in statement.params])  # fmt: skip
        results = []
        for n, statement in enumerate(statements):
            if not together:
                cursor.execute(statement.sql, statement.params)
            elif n:
                cursor.nextset()
            results.append(statement.read(cursor.fetchall() if cursor.description else []))
        return results


@dataclass(frozen=True)
class Writes:
    """Statements that need nothing from each other, and what to do with their results: `finish(results)` (one
    result per statement) may return the writes that had to wait for them, run in the next round trip."""

    statements: list[Statement]
    finish: Callable[[list], Writes | None] = lambda _results: None


def run_writes(connection, writes: list[Writes]) -> None:
    """Every write's statements in one round trip (run_together), each write handed its own results; then the
    writes those returned, the same way, until none is left."""
    while writes:
        results = run_together(connection, [statement for write in writes for statement in write.statements])
        waiting, start = [], 0
        for write in writes:
            end = start + len(write.statements)
            if (more := write.finish(results[start:end])) is not None:
                waiting.append(more)
            start = end
        writes = waiting


def _json_value(value):
    """What the json module cannot write itself, as PostgreSQL reads it back into the column's type."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Json | Jsonb):  # a JSONField's value, adapted for psycopg: the JSON itself
        return value.obj
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} has no JSON form for a bulk statement")
