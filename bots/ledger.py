"""Bulk insert of fills into the trade ledger, skipping any (bot, trade_id) already stored.

Why not plain `bulk_create` everywhere: on PostgreSQL, Django 5.2 inserts through UNNEST(arrays) and
psycopg escapes every JSON text for the array literal; measured on 100,000 fills that was 13 of 25 s.
COPY into a temporary table, then one INSERT … ON CONFLICT DO NOTHING, takes a fraction of it and
stays idempotent under concurrent runs. Other databases keep `bulk_create(ignore_conflicts=True)`.
"""
import json

from django.db import connection, transaction
from django.utils import timezone

from bots.models import Trade

COLUMNS = ["bot_id", "trade_id", "timestamp", "trading_pair", "side", "price", "amount", "fee_quote", "fee", "raw", "ingested_at"]
BATCH = 2000


def insert_fills(bot, fills) -> None:
    """`fills` are client `Fill`s not yet in the ledger; a concurrent run may store some meanwhile."""
    if not fills:
        return
    if connection.vendor == "postgresql":
        _copy_insert(bot, fills)
    else:
        Trade.objects.bulk_create((_trade(bot, f) for f in fills), batch_size=BATCH, ignore_conflicts=True)


def _trade(bot, fill) -> Trade:
    return Trade(bot=bot, trade_id=fill.trade_id, timestamp=fill.timestamp, trading_pair=fill.trading_pair or bot.trading_pair,
                 side=fill.side, price=fill.price, amount=fill.amount, fee_quote=fill.fee_quote, fee=fill.fee, raw=fill.raw)


def _copy_insert(bot, fills) -> None:
    table = Trade._meta.db_table
    now = timezone.now()
    columns = ", ".join(COLUMNS)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE trade_import (bot_id bigint, trade_id varchar(128), timestamp timestamptz, "
            "trading_pair varchar(129), side varchar(4), price numeric, amount numeric, fee_quote numeric, "
            "fee jsonb, raw jsonb, ingested_at timestamptz)"
        )
        with cursor.cursor.copy(f"COPY trade_import ({columns}) FROM STDIN") as copy:
            for f in fills:
                copy.write_row((bot.pk, f.trade_id, f.timestamp, f.trading_pair or bot.trading_pair, f.side, f.price,
                                f.amount, f.fee_quote, json.dumps(f.fee), json.dumps(f.raw), now))
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM trade_import "
            "ON CONFLICT (bot_id, trade_id) DO NOTHING"
        )
        # Dropped explicitly: inside an outer transaction ON COMMIT DROP would come too late.
        cursor.execute("DROP TABLE trade_import")
