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

from django.db import transaction
from django.utils import timezone

from bots import ledger
from bots.hummingbot.client import Fill, HummingbotClient, get_client
from bots.hummingbot.errors import HummingbotError
from bots.models import Bot, HummingbotServer, Trade

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
# What reading one bot gave: its fills, None (an archiving bot's archive is not there yet) or why it failed.
Read = list[Fill] | None | HummingbotError


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
        report.update({key: report[key] + part[key] for key in ("bots", "new", "known")},
                      failed={**report["failed"], **part["failed"]})
    return report


def trades_sync_from(bots: Iterable[Bot], *, client: HummingbotClient, since=None,
                     progress: Callable[[BotTradesRead], None] | None = None) -> dict:
    """Sync the trades of `bots`, all served by the upstream behind `client` (a per-server split calls
    this once per server). `progress` is called once per bot, after it is stored or has failed.

    Idempotent: a fill already stored is skipped (unique bot + trade_id, insert ignoring conflicts),
    so two runs at once still store each trade once. A bot whose call fails is reported and skipped.
    """
    report = {"bots": 0, "new": 0, "known": 0, "failed": {}}
    to_read = [bot for bot in bots if not _archive_read_completely(bot)]
    started = time.monotonic()
    done = 0

    def store(batch):
        nonlocal done
        for bot, new, known, error in _store_batch(batch):
            done += 1
            if error:
                report["failed"][bot.name] = error
            elif new is not None:
                report.update(bots=report["bots"] + 1, new=report["new"] + new, known=report["known"] + known)
            if progress:
                progress(BotTradesRead(bot=bot.name, done=done, total=len(to_read), seconds=time.monotonic() - started,
                                       new=new or 0, known=known or 0, error=error))

    batch, batch_fills = [], 0
    for bot, fills in fetch_fills(to_read, client=client, since=since):
        batch.append((bot, fills))
        batch_fills += len(fills) if isinstance(fills, list) else 0
        if batch_fills >= STORE_BATCH_FILLS:
            store(batch)
            batch, batch_fills = [], 0
    store(batch)
    return report


def _store_batch(batch: list[tuple[Bot, Read]]) -> list[tuple[Bot, int | None, int | None, str]]:
    """Store a batch of bots' reads in one transaction: their fills and the marks that they were read, or nothing.
    (bot, new, known, error) each; new and known are None for a failed read, or for a bot whose archive does not
    exist upstream yet (the live history was read while it ran)."""
    read = [(bot, fills) for bot, fills in batch if isinstance(fills, list)]
    now = timezone.now()
    with transaction.atomic():
        for bot, fills in batch:
            if isinstance(fills, HummingbotError):
                Bot.objects.filter(pk=bot.pk).update(trades_sync_error=fills.message)
        new = ledger.insert_fills([(bot, _not_stored_yet(bot, fills)) for bot, fills in read])
        Bot.objects.filter(pk__in=[bot.pk for bot, _ in read]).update(trades_synced_at=now, trades_sync_error="")
    counts = {bot.pk: (count, len({f.trade_id for f in fills}) - count) for (bot, fills), count in zip(read, new)}
    return [(bot, *counts.get(bot.pk, (None, None)), fills.message if isinstance(fills, HummingbotError) else "")
            for bot, fills in batch]


def fetch_fills(bots: Iterable[Bot], *, client: HummingbotClient, since=None):
    """(bot, its fills | None | the HummingbotError that stopped the read) for each bot, in order.

    The next bots' replies are fetched and parsed in worker threads while the caller stores a batch, so the
    database work overlaps the upstream's: reads run ahead by up to a batch's worth of fills (FETCH_AHEAD_FILLS,
    and FETCH_AHEAD_BOTS), which is what waits in memory besides the caller's batch.
    The fetch half of a sync on its own: `bench/ingest.py` times it against the whole sync.
    """
    upstream = UpstreamFills(client, since=since)
    to_read = iter(bots)
    pending = deque()
    executor = ThreadPoolExecutor(max_workers=FETCH_WORKERS, thread_name_prefix="trades-fetch")

    def fills_ahead() -> int:
        return sum(len(read.result()) for _, read in pending if read.done() and isinstance(read.result(), list))

    try:
        with _rarer_collections():
            while True:
                while len(pending) < FETCH_AHEAD_BOTS and fills_ahead() < FETCH_AHEAD_FILLS:
                    bot = next(to_read, None)
                    if bot is None:
                        break
                    pending.append((bot, executor.submit(upstream.fills_or_error, bot)))
                if not pending:
                    return
                bot, read = pending.popleft()
                yield bot, read.result()
    finally:  # the caller stopped early or failed: reads nobody will store are not started
        executor.shutdown(wait=False, cancel_futures=True)


_collections_lock = threading.Lock()
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

    def fills_or_error(self, bot: Bot) -> list[Fill] | None | HummingbotError:
        try:
            return self.fills(bot)
        except HummingbotError as exc:
            return exc

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


def _not_stored_yet(bot: Bot, fills: list[Fill]) -> list[Fill]:
    """The fills, each trade once, less those the ledger holds.

    A bot synced before is mostly re-read fills (the history is asked for whole days): one SELECT of
    the ids in the window costs less than encoding them all for an insert that skips them. The insert
    still ignores conflicts, so a concurrent run storing some meanwhile is harmless, and counted right.
    """
    distinct = {f.trade_id: f for f in fills}
    if fills and bot.trades_synced_at is not None:
        oldest = min(f.timestamp for f in fills)
        known = Trade.objects.filter(bot=bot, timestamp__gte=oldest).values_list("trade_id", flat=True)
        for trade_id in known.iterator(chunk_size=2000):
            distinct.pop(trade_id, None)
    return list(distinct.values())
