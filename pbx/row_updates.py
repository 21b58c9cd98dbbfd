"""One UPDATE that gives many rows each their own values, where a condition still holds.

The telephony writer records dozens of calls per transaction: one `queryset.filter(pk=…).update(…)` per call costs a
query compilation and a round trip each, the larger part of a call's database CPU. `update_each` writes them all in
one statement instead:

    WITH v AS (<the rows: pbx.row_source>)
    UPDATE table SET col_a = v.c0, col_b = v.c1 FROM v
    WHERE table.key = v.row_key AND (<the queryset's own filter>) RETURNING table.key

PostgreSQL runs it as written; SQLite (3.33 and later) too, which keeps the newcomer's database on the same path.
"""

from __future__ import annotations

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connections
from django.db.models import sql

from pbx.row_source import Statement, prepared, row_source, run_together

# Rows per statement: far below SQLite's 32,766 parameters even for a wide update.
_CHUNK = 500


def update_each(queryset, rows: dict, *, key: str = "pk") -> set:
    """Set each row's own values: `rows` maps a key (`key` is the column identifying a row) to {field: value}.

    Only rows the queryset's filter still matches are written (the same rule as `queryset.filter(pk=…).update(…)`,
    for many rows at once); returns the keys of the rows written. Rows with different sets of fields are allowed.
    """
    statements = update_each_statements(queryset, rows, key=key)
    return set().union(*run_together(connections[queryset.db], statements))


def update_statement(queryset, **values) -> Statement:
    """`queryset.update(**values)` as a statement, to run with others (pbx.row_source.run_together)."""
    query = queryset.query.chain(sql.UpdateQuery)
    query.add_update_values(values)
    compiler = query.get_compiler(queryset.db)
    compiler.pre_sql_setup()  # a filter across a relation becomes `pk IN (subquery)`, as update() does
    text, params = compiler.as_sql()
    return Statement(text, list(params))


def update_each_statements(queryset, rows: dict, *, key: str = "pk") -> list[Statement]:
    """update_each's statements, to run with others (pbx.row_source.run_together); each reads as the set of keys
    it wrote."""
    by_fields: dict[tuple[str, ...], list] = {}
    for row_key, values in rows.items():
        by_fields.setdefault(tuple(values), []).append(row_key)
    statements = []
    for names, keys in by_fields.items():
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            statement = _update(queryset, names, [(row_key, rows[row_key]) for row_key in chunk], key=key)
            if statement is not None:
                statements.append(statement)
    return statements


def _update(queryset, names: tuple[str, ...], rows: list[tuple], *, key: str) -> Statement | None:
    model, query = queryset.model, queryset.query
    connection = connections[queryset.db]
    meta = model._meta
    assert set(query.alias_map) <= {meta.db_table}, "update_each takes a filter on the model's own columns only"
    key_field = meta.pk if key == "pk" else meta.get_field(key)
    fields = [meta.get_field(name) for name in names]
    try:
        where, where_params = query.get_compiler(connection=connection).compile(query.where)
    except EmptyResultSet:
        return None
    except FullResultSet:
        where, where_params = "", []

    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    columns = [("row_key", key_field), *((f"c{index}", field) for index, field in enumerate(fields))]
    source, params = row_source(
        connection,
        columns,
        [
            [prepared(key_field, row_key, connection)]
            + [prepared(field, values[name], connection) for name, field in zip(names, fields, strict=True)]
            for row_key, values in rows
        ],
    )
    assignments = ", ".join(
        f"{quote(field.column)} = v.{column}" for field, (column, _field) in zip(fields, columns[1:], strict=True)
    )
    key_column = f"{table}.{quote(key_field.column)}"
    sql = (
        f"WITH {source} UPDATE {table} SET {assignments} FROM v WHERE {key_column} = v.row_key"
        + (f" AND ({where})" if where else "")
        + f" RETURNING {key_column}"
    )
    return Statement(sql, [*params, *where_params], lambda found: {key_field.to_python(row[0]) for row in found})
