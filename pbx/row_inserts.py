"""One INSERT of child rows that name their parent by a unique key, not by its id: no read of the ids first.

The telephony writer appends timeline rows of dozens of calls per transaction, and knows each call by its caller
channel id. Reading the calls' ids and then inserting cost two statements, on every batch the writer commits (most
batches at a few calls a second hold little else). `insert_under_parents` does it in one:

    WITH v AS (<the rows: pbx.row_source>)
    INSERT INTO child (parent_id, col_a, col_b)
    SELECT parent.id, v.c0, v.c1 FROM v JOIN parent ON parent.key = v.parent_key WHERE true ORDER BY v.n
    ON CONFLICT DO NOTHING

Rows whose parent does not exist are skipped, as are rows a unique constraint already holds (idempotent writes).
The rows get their ids in the order given (`ORDER BY v.n`: a join may yield them in any order), which orders
events of the same instant.
PostgreSQL and SQLite (3.24 and later) both run it; `WHERE true` is SQLite's way to tell the join's ON from the
upsert's.
"""

from __future__ import annotations

from django.db import connections, router
from django.db.models import DateField, Field, IntegerField
from django.utils import timezone

from pbx.row_source import Statement, prepared, row_source, run_together

# Rows per statement: far below SQLite's 32,766 parameters for a handful of columns.
_CHUNK = 500


def insert_under_parents(model, parent_field: str, parent_key: str, rows: list[tuple[object, dict]]) -> None:
    """Insert `model` rows, each given as (its parent's `parent_key` value, {field: value}), the parent being the
    target of the foreign key `parent_field`. Every row gives the same fields."""
    statements = insert_under_parents_statements(model, parent_field, parent_key, rows)
    run_together(connections[router.db_for_write(model)], statements)


def insert_under_parents_statements(model, parent_field: str, parent_key: str, rows: list) -> list[Statement]:
    """insert_under_parents' statements, to run with others (pbx.row_source.run_together)."""
    if not rows:
        return []
    connection = connections[router.db_for_write(model)]
    meta = model._meta
    link = meta.get_field(parent_field)
    parent_meta = link.related_model._meta
    key_field = parent_meta.get_field(parent_key)
    names = list(rows[0][1])
    fields = [meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    columns = [("n", IntegerField()), ("parent_key", key_field)]
    columns += [(f"c{index}", field) for index, field in enumerate(fields)]

    parent_table = quote(parent_meta.db_table)
    targets = ", ".join(quote(field.column) for field in [link, *fields])
    parent_id = f"{parent_table}.{quote(link.target_field.column)}"
    selected = ", ".join([parent_id, *(f"v.{name}" for name, _field in columns[2:])])
    statements = []
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start : start + _CHUNK]
        source, params = row_source(
            connection,
            columns,
            [
                [n, prepared(key_field, key, connection)]
                + [prepared(field, values[name], connection) for name, field in zip(names, fields, strict=True)]
                for n, (key, values) in enumerate(chunk)
            ],
        )
        sql = (
            f"WITH {source} INSERT INTO {quote(meta.db_table)} ({targets}) SELECT {selected} FROM v "
            f"JOIN {parent_table} ON {parent_table}.{quote(key_field.column)} = v.parent_key "
            "WHERE true ORDER BY v.n ON CONFLICT DO NOTHING"
        )
        statements.append(Statement(sql, params))
    return statements


def insert_rows(model, rows: list[dict], *, conflict: str = "", returning: tuple[str, ...] = ()) -> list[tuple]:
    """Insert `model` rows, each {field name: value} with the same names, in one statement; bulk_create without its
    per-value cost (every field of every row prepared and quoted one by one), for the telephony writer's batches.

    The fields a row leaves out take their defaults, the same for every row (auto_now: now). A field whose value is
    derived on save (a blind index) must be given. `conflict` follows ON CONFLICT (`DO NOTHING`, or a target and
    `DO UPDATE SET …`); returns the `returning` columns of the rows written.
    """
    statements = [insert_rows_statement(model, rows, conflict=conflict, returning=returning)] if rows else []
    return next(iter(run_together(connections[router.db_for_write(model)], statements)), [])


def insert_rows_statement(model, rows: list[dict], *, conflict: str = "", returning: tuple[str, ...] = ()) -> Statement:
    """insert_rows' statement, to run with others (pbx.row_source.run_together); it reads as the returned rows."""
    connection = connections[router.db_for_write(model)]
    meta = model._meta
    given = [meta.get_field(name) for name in rows[0]]
    now = timezone.now()
    left_out = [field for field in meta.concrete_fields if not field.primary_key and field not in given]
    defaults = [field.get_db_prep_save(_default(field, now), connection) for field in left_out]
    columns = [("n", IntegerField()), *((f"c{index}", field) for index, field in enumerate(given + left_out))]
    source, params = row_source(
        connection,
        columns,
        [
            [n, *(prepared(field, value, connection) for field, value in zip(given, row.values(), strict=True)),
             *defaults]
            for n, row in enumerate(rows)
        ],
    )  # fmt: skip
    quote = connection.ops.quote_name
    targets = ", ".join(quote(field.column) for field in given + left_out)
    selected = ", ".join(f"v.{name}" for name, _field in columns[1:])
    table = quote(meta.db_table)
    sql = f"WITH {source} INSERT INTO {table} ({targets}) SELECT {selected} FROM v WHERE true ORDER BY v.n"
    if conflict:
        sql += f" ON CONFLICT {conflict}"
    if returning:
        sql += " RETURNING " + ", ".join(quote(meta.get_field(name).column) for name in returning)
    return Statement(sql, params)


def _default(field, now):
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    if type(field).pre_save is not Field.pre_save and not isinstance(field, DateField):
        raise ValueError(f"{field} is derived on save: give its value")
    return field.get_default()
