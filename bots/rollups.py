"""Daily rollups: each bot's fills summed per UTC day and pair (docs/design.md §12).

One statement, `upsert_sql`, sums ledger rows into the rollups, adding to what is there. ledger.insert_fills runs it
over the rows it really inserted, in the transaction that inserts them (a fill already stored adds nothing);
services.rollups_rebuild runs it over the whole ledger into empty rollups. The same sums over the same fills, so a
rebuild equals what the syncs kept, to the last digit:
- a fill's notional (price x amount) is rounded to 18 places before it is added, so sums taken batch by batch and
  sums taken at once add the same numbers;
- PostgreSQL adds numeric exactly. SQLite's NUMERIC is a float (15 significant digits): there the rollups are text
  and EXACT_SUM, EXACT_NOTIONAL_SUM and EXACT_ADD add with Python's decimal, from the ledger's values as Django reads them.
"""
from decimal import ROUND_HALF_UP, Context, Decimal
from functools import lru_cache

from django.db import connection
from django.db.models import Sum

from bots.models import DailyRollup, Trade

TABLE = DailyRollup._meta.db_table
LEDGER = Trade._meta.db_table
SUMS = ["bought_base", "bought_quote", "sold_base", "sold_quote", "fees_quote"]
# Wide enough for a product of two numeric(38, 18) and for sums of them, unrounded.
EXACT = Context(prec=80)
PLACES = Decimal(1).scaleb(-18)
_fifteen_digits = Context(prec=15).create_decimal_from_float


def add(cursor, source: str, where: str, params=()) -> None:
    """Add the fills of `source` (the ledger, or rows just inserted into it) that match `where` to the rollups."""
    cursor.execute(upsert_sql(source, where), params)


def upsert_sql(source: str, where: str) -> str:
    """INSERT ... SELECT summing `source`'s rows per bot, UTC day and pair, adding to the rollups already stored.
    Ordered, so two syncs lock the rollups they share in one order. (SQLite's upsert needs the WHERE: docs
    lang_upsert.)"""
    sqlite = connection.vendor == "sqlite"
    day = "date(timestamp)" if sqlite else "(timestamp AT TIME ZONE 'UTC')::date"  # SQLite holds naive UTC text
    total = "EXACT_SUM" if sqlite else "SUM"
    notional = "EXACT_NOTIONAL_SUM(price, amount)" if sqlite else "SUM(ROUND(price * amount, 18))"
    sums = {  # FILTER rather than CASE: SQLite does not call its functions for the other side's rows
        "bought_base": f"{total}(amount) FILTER (WHERE side = 'buy')",
        "bought_quote": f"{notional} FILTER (WHERE side = 'buy')",
        "sold_base": f"{total}(amount) FILTER (WHERE side = 'sell')",
        "sold_quote": f"{notional} FILTER (WHERE side = 'sell')",
        "fees_quote": f"{total}(fee_quote)",
    }
    summed = ", ".join(f"COALESCE({sums[column]}, 0)" for column in SUMS)
    added = ", ".join(f"{column} = " + (f"EXACT_ADD({TABLE}.{column}, excluded.{column})" if sqlite
                                         else f"{TABLE}.{column} + excluded.{column}") for column in SUMS)
    return (f"INSERT INTO {TABLE} (bot_id, day, trading_pair, fills, {', '.join(SUMS)}) "
            f"SELECT bot_id, {day}, trading_pair, COUNT(*), {summed} FROM {source} WHERE {where} "
            f"GROUP BY bot_id, {day}, trading_pair ORDER BY bot_id, {day}, trading_pair "
            f"ON CONFLICT (bot_id, day, trading_pair) DO UPDATE SET fills = {TABLE}.fills + excluded.fills, {added}")


class ExactSum(Sum):
    """SUM of a rollup column, exact on SQLite too (its EXACT_SUM)."""

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="EXACT_SUM", **extra_context)


def register_sqlite_functions(sender, connection, **kwargs) -> None:
    """connection_created: the exact arithmetic the rollups need on SQLite (deterministic, so usable anywhere)."""
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate("EXACT_SUM", 1, _ExactSum)
        connection.connection.create_aggregate("EXACT_NOTIONAL_SUM", 2, _ExactNotionalSum)
        connection.connection.create_function("EXACT_ADD", 2, _exact_add, deterministic=True)


# Prices and amounts repeat (ticks, lots): uncached, summing 100,000 fills of 1,000 prices took twice the CPU.
@lru_cache(maxsize=65_536)
def _decimal(value) -> Decimal:
    """A SQLite value as an exact decimal: a rollup's text, an integer, or a ledger float read as Django reads the
    ledger's NUMERIC columns (15 significant digits, then 18 places)."""
    if isinstance(value, float):
        return _fifteen_digits(value).quantize(PLACES, context=EXACT)
    return Decimal(value)


def _text(value: Decimal) -> str:
    return format(value, "f")  # never an exponent: the column stays readable as a number


class _ExactSum:
    def __init__(self):
        self.total = None

    def step(self, value):
        if value is not None:
            self.total = EXACT.add(self.total or Decimal(0), _decimal(value))

    def finalize(self):
        return None if self.total is None else _text(self.total)


def _exact_add(a, b) -> str:
    return _text(EXACT.add(_decimal(a), _decimal(b)))


class _ExactNotionalSum(_ExactSum):
    """SUM(ROUND(price * amount, 18)): each product rounded half away from zero, as PostgreSQL's ROUND."""

    def step(self, price, amount):
        if price is not None and amount is not None:
            product = EXACT.multiply(_decimal(price), _decimal(amount))
            self.total = EXACT.add(self.total or Decimal(0), product.quantize(PLACES, ROUND_HALF_UP, EXACT))
