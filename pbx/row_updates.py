"""One UPDATE that gives many rows each their own values, where a condition still holds.

The telephony writer records dozens of calls per transaction: one `queryset.filter(pk=…).update(…)` per call costs a
query compilation and a round trip each, the larger part of a call's database CPU. `update_each` writes them all in
one statement instead:

    WITH v (row_key, c0, c1) AS (VALUES (…), (…))
    UPDATE table SET col_a = v.c0, col_b = v.c1 FROM v
    WHERE table.key = v.row_key AND (<the queryset's own filter>) RETURNING table.key

PostgreSQL runs it as written; SQLite (3.33 and later) too, which keeps the newcomer's database on the same path.
"""

from __future__ import annotations

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connections

# Rows per statement: far below SQLite's 32,766 parameters even for a wide update.
_CHUNK = 500


def values_column(connection, name: str, field) -> str:
    """Column `name` of the `v` VALUES list, as `field` holds it: PostgreSQL types VALUES columns from their literals
    (text, mostly; a column of NULLs would be text too), so there it is cast to the field's type."""
    if connection.vendor == "postgresql":
        return f"CAST(v.{name} AS {field.cast_db_type(connection)})"
    return f"v.{name}"


def update_each(queryset, rows: dict, *, key: str = "pk") -> set:
    """Set each row's own values: `rows` maps a key (`key` is the column identifying a row) to {field: value}.

    Only rows the queryset's filter still matches are written (the same rule as `queryset.filter(pk=…).update(…)`,
    for many rows at once); returns the keys of the rows written. Rows with different sets of fields are allowed.
    """
    if not rows:
        return set()
    by_fields: dict[tuple[str, ...], list] = {}
    for row_key, values in rows.items():
        by_fields.setdefault(tuple(values), []).append(row_key)
    written: set = set()
    for names, keys in by_fields.items():
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            written |= _update(queryset, names, [(row_key, rows[row_key]) for row_key in chunk], key=key)
    return written


def _update(queryset, names: tuple[str, ...], rows: list[tuple], *, key: str) -> set:
    model, query = queryset.model, queryset.query
    connection = connections[queryset.db]
    meta = model._meta
    assert set(query.alias_map) <= {meta.db_table}, "update_each takes a filter on the model's own columns only"
    key_field = meta.pk if key == "pk" else meta.get_field(key)
    fields = [meta.get_field(name) for name in names]
    try:
        where, where_params = query.get_compiler(connection=connection).compile(query.where)
    except EmptyResultSet:
        return set()
    except FullResultSet:
        where, where_params = "", []

    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    columns = ["row_key", *(f"c{index}" for index in range(len(fields)))]

    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    params: list = []
    for row_key, values in rows:
        params.append(key_field.get_db_prep_value(row_key, connection))
        params += [field.get_db_prep_save(values[name], connection) for name, field in zip(names, fields, strict=True)]
    assignments = ", ".join(
        f"{quote(field.column)} = {values_column(connection, column, field)}"
        for field, column in zip(fields, columns[1:], strict=True)
    )
    key_column = f"{table}.{quote(key_field.column)}"
    sql = (
        f"WITH v ({', '.join(columns)}) AS (VALUES {', '.join([placeholders] * len(rows))}) "
        f"UPDATE {table} SET {assignments} FROM v "
        f"WHERE {key_column} = {values_column(connection, 'row_key', key_field)}"
        + (f" AND ({where})" if where else "")
        + f" RETURNING {key_column}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *where_params])
        return {key_field.to_python(row[0]) for row in cursor.fetchall()}
