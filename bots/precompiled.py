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
from django.db.models.sql import Query

# Stands for the server's name while a query is compiled; never a real one (names are slugs).
_SERVER_NAME = "\x00server name"

Build = Callable[[str | None], QuerySet]


def fetch_rows(build: Build, server_name: str | None, *, converted: bool = True) -> list[tuple]:
    """The rows of `build(server_name)`, a `values_list()` queryset, compiled on first use (per database vendor),
    each value converted as the queryset would (SQLite's datetimes are text until then), or, with
    `converted=False`, as the driver gives them, for a caller that reads them itself."""
    query, sql, columns = _compiled(build, connection.vendor, server_name is not None)
    with connection.cursor() as cursor:
        cursor.execute(sql, [] if server_name is None else [server_name])
        rows = cursor.fetchall()
    if not converted:
        return rows
    # Django's own conversion, by a compiler of this thread's connection that compiles nothing.
    compiler = query.get_compiler(connection=connection)
    converters = compiler.get_converters(columns)
    return [tuple(row) for row in compiler.apply_converters(rows, converters)] if converters else rows


@cache
def _compiled(build: Build, vendor: str, of_one_server: bool) -> tuple[Query, str, list]:
    query = build(_SERVER_NAME if of_one_server else None).query
    compiler = query.get_compiler(connection=connection)
    sql, params = compiler.as_sql()
    if params != ((_SERVER_NAME,) if of_one_server else ()):  # any other value would be frozen into the cache
        raise ImproperlyConfigured(f"{build.__qualname__}: only the server's name may vary, got {params!r}")
    return query, sql, [column for column, _, _ in compiler.select]
