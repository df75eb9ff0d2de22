"""Hot reads whose SQL is compiled once per process instead of once per request.

GET /bots runs two small queries on every poll; Django's compiler took ~0.9 ms of them (the servers' sync states
are five subqueries) against ~0.2 ms for running the servers' one (bench/bots_list.py). The SQL is built from the
same querysets, so it follows the models; only the server's name, where a query is filtered by it, varies.
"""
from collections.abc import Callable
from functools import cache

from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import QuerySet

# Stands for the server's name while a query is compiled; never a real one (names are slugs).
_SERVER_NAME = "\x00server name"

Build = Callable[[str | None], QuerySet]


def fetch_rows(build: Build, server_name: str | None) -> list[tuple]:
    """The rows of `build(server_name)`, a `values_list()` queryset, compiled on first use (per database vendor),
    each value converted as the queryset would (SQLite's datetimes are text until then)."""
    sql, columns = _compiled(build, connection.vendor, server_name is not None)
    converters = [(index, column, converters) for index, column in enumerate(columns)
                  if (converters := [*connection.ops.get_db_converters(column), *column.get_db_converters(connection)])]
    with connection.cursor() as cursor:
        cursor.execute(sql, [] if server_name is None else [server_name])
        rows = cursor.fetchall()
    if not converters:
        return rows
    return [_converted(list(row), converters) for row in rows]


def _converted(row: list, converters) -> tuple:
    for index, column, functions in converters:
        for convert in functions:
            row[index] = convert(row[index], column, connection)
    return tuple(row)


@cache
def _compiled(build: Build, vendor: str, of_one_server: bool) -> tuple[str, list]:
    compiler = build(_SERVER_NAME if of_one_server else None).query.get_compiler(connection=connection)
    sql, params = compiler.as_sql()
    if params != ((_SERVER_NAME,) if of_one_server else ()):  # any other value would be frozen into the cache
        raise ImproperlyConfigured(f"{build.__qualname__}: only the server's name may vary, got {params!r}")
    return sql, [column for column, _, _ in compiler.select]
