"""The trade ledger: pull fills from live bots (history) and archived bots (their archive)."""
from __future__ import annotations

import gc
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from django.db import DatabaseError, connection, transaction
from django.db.models import Case, Count, F, Sum, Value, When
from django.utils import timezone

from bots import ledger, rollups
from bots.hummingbot.client import Fill, HummingbotClient, get_client
from bots.hummingbot.errors import HummingbotError
from bots.models import Bot, DailyRollup, HummingbotServer, Trade
from bots.services import alerts

Status = Bot.Status
ARCHIVE_PAGE = 1000
# Bots whose fills add up to this many share one transaction: a commit waits for the disk (~7 ms on SQLite, a
# third of storing 1,000 fills; bench/ingest.py), and a batch is all or nothing, fills and read marks together.
STORE_BATCH_FILLS = 20_000
# Reads run ahead of the inserts (see fetch_fills); the client's requests.Session is shared by the workers.
FETCH_WORKERS = 2
FETCH_AHEAD_BOTS = 32
FETCH_AHEAD_FILLS = STORE_BATCH_FILLS
RARER_COLLECTIONS_AFTER = 50_000  # allocations between young collections while a sync reads (Python's default: 700)


@dataclass(frozen=True)
class BotTradesRead:
    """One bot done, for a progress display: its counts, or why it failed; `seconds` since the sync began."""
    bot: str
    done: int
    total: int
    seconds: float
    new: int = 0
    known: int = 0
    error: str = ""


def trades_sync(*, server: HummingbotServer | None = None, bot_names: list[str] | None = None, since=None,
                progress: Callable[[BotTradesRead], None] | None = None) -> dict:
    """Pull fills of live bots (history) and of archived bots (their archived db) into the ledger, each bot's from
    its own server, server after server (the scheduled sync runs one task per server, in parallel)."""
    bots = Bot.objects.exclude(hummingbot_name=None).select_related("server")
    if server is not None:
        bots = bots.filter(server=server)
    if bot_names:
        bots = bots.filter(name__in=bot_names)
    by_server = {}
    for bot in bots:
        by_server.setdefault(bot.server, []).append(bot)
    report = {"bots": 0, "new": 0, "known": 0, "failed": {}}
    for served_by, served in by_server.items():
        try:
            client = get_client(served_by)
        except HummingbotError as exc:  # its password variable is unset: nothing could be asked
            report["failed"].update({bot.name: exc.message for bot in served})
            continue
        part = trades_sync_from(served, client=client, since=since, progress=progress)
        alerts.trades_synced(bots=served, failed=part["failed"], now=timezone.now())
        report.update({key: report[key] + part[key] for key in ("bots", "new", "known")},
                      failed={**report["failed"], **part["failed"]})
    return report


def trades_sync_from(bots: Iterable[Bot], *, client: HummingbotClient, since=None,
                     progress: Callable[[BotTradesRead], None] | None = None) -> dict:
    """Sync the trades of `bots`, all served by the upstream behind `client` (a per-server split calls
    this once per server). `progress` is called once per bot, after it is stored or has failed.

    Idempotent: a fill already stored is skipped (unique bot + trade_id, insert ignoring conflicts),
    so two runs at once still store each trade once. A bot whose call fails is reported and skipped.
    A run `since` a time re-reads that window only: it leaves the marks of what was read completely as they were.
    """
    report = {"bots": 0, "new": 0, "known": 0, "failed": {}}
    to_read = [bot for bot in bots if not _archive_read_completely(bot)]
    started = time.monotonic()
    done = 0

    def store(batch: list[BotRead]):
        nonlocal done
        try:
            outcomes = _store_batch(batch, mark_read=since is None)
        except DatabaseError:  # a fill the ledger cannot hold: the bots beside it are not held back by it
            outcomes = [outcome for read in batch for outcome in _store_alone(read, mark_read=since is None)]
        for bot, new, known, error in outcomes:
            done += 1
            if error:
                report["failed"][bot.name] = error
            elif new is not None:
                report.update(bots=report["bots"] + 1, new=report["new"] + new, known=report["known"] + known)
            if progress:
                progress(BotTradesRead(bot=bot.name, done=done, total=len(to_read), seconds=time.monotonic() - started,
                                       new=new or 0, known=known or 0, error=error))

    batch, batch_fills = [], 0
    try:
        for read in fetch_fills(to_read, client=client, since=since):
            batch.append(read)
            batch_fills += len(read.fills) if isinstance(read.fills, list) else 0
            if batch_fills >= STORE_BATCH_FILLS:
                full, batch, batch_fills = batch, [], 0
                store(full)
    finally:  # a read that broke off (not a HummingbotError: a bug) still lets the reads before it be stored
        if batch:
            store(batch)
    return report


@dataclass(frozen=True)
class BotRead:
    """One bot's read: when it began, and its fills, None (an archiving bot's archive is not there yet) or why
    it failed."""
    bot: Bot
    started_at: datetime
    fills: list[Fill] | None | HummingbotError


def _store_batch(batch: list[BotRead], *, mark_read: bool) -> list[tuple[Bot, int | None, int | None, str]]:
    """Store a batch of bots' reads in one transaction: their fills and the marks that they were read, or nothing.
    (bot, new, known, error) each; new and known are None for a failed read, or for a bot whose archive does not
    exist upstream yet (the live history was read while it ran)."""
    reads = [read for read in batch if isinstance(read.fills, list)]
    errors = {read.bot.pk: read.fills.message for read in batch if isinstance(read.fills, HummingbotError)}
    # Before the transaction: on SQLite it holds the only write lock, which the known ids need not.
    unstored = [_not_stored_yet(read.bot, read.fills) for read in reads]
    new = []
    if reads or errors:
        with transaction.atomic():
            new = ledger.insert_fills([(read.bot, fills) for read, (fills, _) in zip(reads, unstored)])
            _mark(reads if mark_read else [], errors)
    counts = {read.bot.pk: (count, trades - count) for read, (_, trades), count in zip(reads, unstored, new)}
    return [(read.bot, *counts.get(read.bot.pk, (None, None)), errors.get(read.bot.pk, "")) for read in batch]


def _store_alone(read: BotRead, *, mark_read: bool) -> list[tuple[Bot, int | None, int | None, str]]:
    try:
        return _store_batch([read], mark_read=mark_read)
    except DatabaseError as exc:
        error = f"the ledger refused its fills: {exc}"
        Bot.objects.filter(pk=read.bot.pk).update(trades_sync_error=error)
        return [(read.bot, None, None, error)]


def _mark(reads: list[BotRead], errors: dict[int, str]) -> None:
    """The batch's bots' rows in one statement, so a sync locks them once and in one order: two syncs, or a status
    sync, writing the same rows meanwhile wait their turn instead of deadlocking. Each read bot is marked with
    the time the batch's first read began: a bot archived after its live history was read is read again from
    its archive (see _archive_read_completely)."""
    read_pks = [read.bot.pk for read in reads]
    read_at = min((read.started_at for read in reads), default=None)
    if not read_pks and not errors:
        return
    Bot.objects.filter(pk__in=[*read_pks, *errors]).update(
        trades_synced_at=Case(When(pk__in=read_pks, then=Value(read_at)), default=F("trades_synced_at")),
        trades_sync_error=Case(*(When(pk=pk, then=Value(message)) for pk, message in errors.items()),
                               default=Value("")),
    )


def fetch_fills(bots: Iterable[Bot], *, client: HummingbotClient, since=None):
    """A `BotRead` for each bot, in order.

    The next bots' replies are fetched and parsed in worker threads while the caller stores a batch, so the
    database work overlaps the upstream's. Reads run ahead by up to FETCH_AHEAD_BOTS bots, and no new one starts
    while FETCH_AHEAD_FILLS fills already wait; that, besides the caller's batch, is what is held in memory.
    The fetch half of a sync on its own: `bench/ingest.py` times it against the whole sync.
    """
    upstream = UpstreamFills(client, since=since)
    to_read = iter(bots)
    pending = deque()
    executor = ThreadPoolExecutor(max_workers=FETCH_WORKERS, thread_name_prefix="trades-fetch")

    def fills_ahead() -> int:
        return sum(len(read.result().fills) for read in pending
                   if read.done() and not read.exception() and isinstance(read.result().fills, list))

    try:
        with _rarer_collections():
            while True:
                while len(pending) < FETCH_AHEAD_BOTS and fills_ahead() < FETCH_AHEAD_FILLS:
                    bot = next(to_read, None)
                    if bot is None:
                        break
                    pending.append(executor.submit(upstream.read, bot))
                if not pending:
                    return
                yield pending.popleft().result()
    finally:  # the caller stopped early or failed: reads nobody will store are not started
        executor.shutdown(wait=False, cancel_futures=True)


_collections_lock = threading.RLock()
_syncs_reading = 0
_thresholds_before = gc.get_threshold()


@contextmanager
def _rarer_collections():
    """Fewer cyclic garbage collections while fills are read: up to two batches of them (~250,000 objects) are
    alive, and every full collection walks them all; at the default thresholds they took a quarter of a sync
    (bench/ingest.py). Reference counting still frees nearly everything; the first sync in sets, the last restores."""
    global _syncs_reading, _thresholds_before
    with _collections_lock:
        _syncs_reading += 1
        if _syncs_reading == 1:
            _thresholds_before = gc.get_threshold()
            gc.set_threshold(RARER_COLLECTIONS_AFTER, *_thresholds_before[1:])
    try:
        yield
    finally:
        with _collections_lock:
            _syncs_reading -= 1
            if _syncs_reading == 0:
                gc.set_threshold(*_thresholds_before)


def archive_path(hummingbot_name: str, archived_dbs: list[str]) -> str | None:
    """The bot's database among GET /archived-bots/ paths, "bots/archived/<name>/data/<name>.sqlite" (§6)."""
    return next((path for path in archived_dbs if f"/{hummingbot_name}/" in path), None)


def _archive_read_completely(bot: Bot) -> bool:
    """Its archive was read completely after it was archived: nothing more can appear."""
    return bot.status == Status.ARCHIVED and bool(bot.trades_synced_at) and bot.trades_synced_at > bot.updated_at


class UpstreamFills:
    """The fetch side of one sync: HTTP and parsing only, no database access, so it may run in worker threads."""

    def __init__(self, client: HummingbotClient, *, since=None):
        self.client = client
        self.since = since
        self._archived_dbs = None
        self._lock = threading.Lock()

    def read(self, bot: Bot) -> BotRead:
        started_at = timezone.now()
        try:
            return BotRead(bot, started_at, self.fills(bot))
        except HummingbotError as exc:
            return BotRead(bot, started_at, exc)

    def fills(self, bot: Bot) -> list[Fill] | None:
        """The bot's fills; None for an archiving bot whose archive does not exist upstream yet."""
        if bot.status in (Status.ARCHIVED, Status.ARCHIVING):
            return self._archived_fills(bot)
        return self.client.bot_history(bot.hummingbot_name, days=self._history_days(bot))

    def _history_days(self, bot: Bot) -> int:
        """Whole days back to the last good sync: `days=0` would only cover the bot's current boot (docs/hummingbot-api.md §10)."""
        start = self.since or bot.trades_synced_at or bot.created_at
        return max(1, (timezone.now() - start).days + 1)

    def _archived_fills(self, bot: Bot) -> list[Fill] | None:
        with self._lock:  # one listing per sync, however many archived bots
            if self._archived_dbs is None:
                self._archived_dbs = self.client.archived_bots()
        db = archive_path(bot.hummingbot_name, self._archived_dbs)
        if db is None:
            return None
        fills, offset = [], 0
        while True:
            page = self.client.archived_trades(db, limit=ARCHIVE_PAGE, offset=offset)
            fills.extend(page.fills)
            offset += len(page.fills)
            if not page.has_more or not page.fills:
                break
        return [f for f in fills if self.since is None or f.timestamp >= self.since]


def _not_stored_yet(bot: Bot, fills: list[Fill]) -> tuple[list[Fill], int]:
    """The fills, each trade once, less those the ledger holds; and how many trades they were in all.

    A bot synced before is mostly re-read fills (the history is asked for whole days): one SELECT of
    the ids in the window costs less than encoding them all for an insert that skips them. The insert
    still ignores conflicts, so a concurrent run storing some meanwhile is harmless, and counted right.
    """
    distinct = {f.trade_id: f for f in fills}
    trades = len(distinct)
    if fills and bot.trades_synced_at is not None:
        oldest = min(f.timestamp for f in fills)
        known = Trade.objects.filter(bot=bot, timestamp__gte=oldest).values_list("trade_id", flat=True)
        for trade_id in known.iterator(chunk_size=2000):
            distinct.pop(trade_id, None)
    return list(distinct.values()), trades


def rollups_rebuild() -> dict:
    """Every daily rollup made again from the ledger, in one transaction (`manage.py rebuild_rollups`, docs/design.md
    §12): {"rollups": rows, "fills": fills they sum}."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # No fill is stored meanwhile (syncs wait): it would be added by its sync and by this sum. On SQLite the
            # transaction already holds the only write lock.
            cursor.execute(f"LOCK TABLE {rollups.LEDGER} IN SHARE MODE")
        cursor.execute(f"DELETE FROM {rollups.TABLE}")
        rollups.add(cursor, rollups.LEDGER, "true")
        return DailyRollup.objects.aggregate(rollups=Count("id"), fills=Sum("fills", default=0))
