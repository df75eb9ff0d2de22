"""Bulk insert of fills into the trade ledger, skipping any (bot, trade_id) already stored.

No model instances: one statement inserts every fill with ON CONFLICT (bot_id, trade_id) DO NOTHING
and its row count says how many were new, which stays true when two syncs run at once. The daily rollups
(bots/rollups.py) are added to in the same transaction, from exactly the rows inserted. Measured on 100,000 fills
(bench/ingest.py):
- PostgreSQL: Django 5.2's bulk_create goes through UNNEST(arrays) and psycopg escapes every JSON text
  for the array literal (13 of 25 s), so the rows are COPYed into a temporary table and inserted from it.
- SQLite: bulk_create spends most of its time building and compiling model instances (999 variables
  per statement, ~90 rows); one executemany of plain tuples skips all of it.
"""
import json

import orjson
from django.db import connection, transaction
from psycopg.errors import UniqueViolation
from django.utils import timezone

from bots import rollups
from bots.hummingbot.client import Fill
from bots.models import Bot, Trade

COLUMNS = ["bot_id", "trade_id", "timestamp", "trading_pair", "side", "price", "amount", "fee_quote", "raw", "ingested_at"]
TABLE = Trade._meta.db_table
_encode_any_json = json.JSONEncoder(check_circular=False).encode
CONFLICT = "ON CONFLICT (bot_id, trade_id) DO NOTHING"


def insert_fills(fills_of: list[tuple[Bot, list[Fill]]]) -> list[int]:
    """Store client `Fill`s of several bots, and add them to the daily rollups, in the caller's transaction; returns
    how many of each bot's were new (the others were already stored, and are not added again)."""
    rows_of = [_rows(bot, fills) for bot, fills in fills_of]
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            return _copied(cursor, [(bot, rows) for (bot, _), rows in zip(fills_of, rows_of)])
        # The transaction holds SQLite's only write lock (IMMEDIATE): the rows above the newest id are ours.
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {TABLE}")
        [newest] = cursor.fetchone()
        insert = f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join(['%s'] * len(COLUMNS))}) {CONFLICT}"
        inserted = []
        for rows in rows_of:
            if rows:
                cursor.executemany(insert, rows)
            inserted.append(cursor.rowcount if rows else 0)
        if any(inserted):
            rollups.add(cursor, TABLE, "id > %s", [newest])
        return inserted


def _copied(cursor, rows_of: list[tuple[Bot, list[tuple]]]) -> list[int]:
    """One COPY for the bots never synced, streamed while the server writes (one per bot made this process wait
    for each in turn); the others, and all of them if one turns out stored meanwhile, through _copy_insert."""
    first_time = {bot.pk for bot, rows in rows_of if bot.trades_synced_at is None and rows}
    copied = [row for bot, rows in rows_of if bot.pk in first_time for row in rows]
    if first_time and not _copied_into_ledger(copied):
        first_time, copied = set(), []
    if copied:  # all of them are new: the ledger's rows of these (bot, trade_id), on the unique index
        rollups.add(cursor, TABLE, "(bot_id, trade_id) IN (SELECT * FROM unnest(%s::bigint[], %s::text[]))",
                    [[row[0] for row in copied], [row[1] for row in copied]])
    rest = [row for bot, rows in rows_of if bot.pk not in first_time for row in rows]
    inserted = _copy_insert(cursor, rest) if rest else {}
    return [len(rows) if bot.pk in first_time else inserted.get(bot.pk, 0) for bot, rows in rows_of]


def encode_json(value) -> str:
    """JSON text for a JSONField column: orjson takes ~1 us for a fill's raw where json.dumps took ~5
    (a quarter of the storing side, bench/ingest.py); Python's encoder for integers beyond 64 bits, which
    orjson refuses."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return _encode_any_json(value)


def _rows(bot, fills) -> list[tuple]:
    """Column values as the driver takes them, adapted as Django adapts the model's fields."""
    timestamp = _datetime_adapter()
    bot_id, pair, now = bot.pk, bot.trading_pair, timestamp(timezone.now())
    return [(bot_id, f.trade_id, timestamp(f.timestamp), f.trading_pair or pair, f.side, f.price,
             f.amount, f.fee_quote, encode_json(f.raw), now) for f in fills]


def _datetime_adapter():
    if connection.vendor == "sqlite":
        # Django's sqlite3 adaptation of an aware datetime (naive text in the connection's zone), inlined:
        # through connection.ops it costs twice as much per fill.
        zone = connection.timezone
        return lambda moment: str(moment.astimezone(zone).replace(tzinfo=None))
    return connection.ops.adapt_datetimefield_value


def _copied_into_ledger(rows) -> bool:
    """Bots never synced have nothing stored: their rows are COPYed straight into the ledger, without the
    temporary table and its INSERT ... SELECT (bench/ingest.py). A concurrent sync may be storing the same
    fills: the unique (bot, trade_id) then refuses the COPY, the savepoint undoes it and it returns False."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            _copy(cursor, TABLE, rows)
        return True
    except UniqueViolation:
        return False


def _copy_insert(cursor, rows) -> dict[int, int]:
    """New rows per bot id: the rows COPYed into a temporary table, inserted from it skipping those stored."""
    columns = ", ".join(COLUMNS)
    cursor.execute(
        "CREATE TEMP TABLE trade_import (bot_id bigint, trade_id varchar(128), timestamp timestamptz, "
        "trading_pair varchar(129), side varchar(4), price numeric, amount numeric, fee_quote numeric, "
        "raw jsonb, ingested_at timestamptz)"
    )
    _copy(cursor, "trade_import", rows)
    # The rollups sum what the INSERT returns: the rows it really inserted.
    cursor.execute(f"WITH inserted AS (INSERT INTO {TABLE} ({columns}) SELECT {columns} FROM trade_import {CONFLICT} "
                   "RETURNING bot_id, timestamp, trading_pair, side, price, amount, fee_quote), "
                   f"rolled_up AS ({rollups.upsert_sql('inserted', 'true')}) "
                   "SELECT bot_id, COUNT(*) FROM inserted GROUP BY bot_id")
    inserted = dict(cursor.fetchall())
    # Dropped explicitly: inside an outer transaction ON COMMIT DROP would come too late.
    cursor.execute("DROP TABLE trade_import")
    return inserted


def _copy(cursor, table: str, rows) -> None:
    """The rows into `table`'s COLUMNS by COPY, streamed to the server as they are written."""
    with cursor.cursor.copy(f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
