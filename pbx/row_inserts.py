"""One INSERT of child rows that name their parent by a unique key, not by its id: no read of the ids first.

The telephony writer appends timeline rows of dozens of calls per transaction, and knows each call by its caller
channel id. Reading the calls' ids and then inserting cost two statements, on every batch the writer commits (most
batches at a few calls a second hold little else). `insert_under_parents` does it in one:

    WITH v (n, parent_key, c0, c1) AS (VALUES (…), (…))
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

from pbx.row_updates import values_column

# Rows per statement: far below SQLite's 32,766 parameters for a handful of columns.
_CHUNK = 500


def insert_under_parents(model, parent_field: str, parent_key: str, rows: list[tuple[object, dict]]) -> None:
    """Insert `model` rows, each given as (its parent's `parent_key` value, {field: value}), the parent being the
    target of the foreign key `parent_field`. Every row gives the same fields."""
    if not rows:
        return
    connection = connections[router.db_for_write(model)]
    meta = model._meta
    link = meta.get_field(parent_field)
    parent_meta = link.related_model._meta
    key_field = parent_meta.get_field(parent_key)
    names = list(rows[0][1])
    fields = [meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    columns = ["n", "parent_key", *(f"c{index}" for index in range(len(fields)))]

    parent_table = quote(parent_meta.db_table)
    targets = ", ".join(quote(field.column) for field in [link, *fields])
    selected = ", ".join(
        [f"{parent_table}.{quote(link.target_field.column)}"]
        + [values_column(connection, column, field) for column, field in zip(columns[2:], fields, strict=True)]
    )
    parent_key_value = values_column(connection, "parent_key", key_field)
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start : start + _CHUNK]
        params: list = []
        for n, (key, values) in enumerate(chunk):
            params += [n, key_field.get_db_prep_value(key, connection)]
            params += [
                field.get_db_prep_save(values[name], connection) for name, field in zip(names, fields, strict=True)
            ]
        sql = (
            f"WITH v ({', '.join(columns)}) AS (VALUES {', '.join([placeholders] * len(chunk))}) "
            f"INSERT INTO {quote(meta.db_table)} ({targets}) SELECT {selected} FROM v "
            f"JOIN {parent_table} ON {parent_table}.{quote(key_field.column)} = {parent_key_value} "
            "WHERE true ORDER BY v.n ON CONFLICT DO NOTHING"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
