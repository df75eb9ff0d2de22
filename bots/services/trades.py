"""The trade ledger: pull fills from live bots (history) and archived bots (their archive)."""
from __future__ import annotations

from django.utils import timezone

from bots import ledger
from bots.hummingbot.client import get_client
from bots.hummingbot.errors import HummingbotError
from bots.models import Bot, Trade

Status = Bot.Status
ARCHIVE_PAGE = 1000


def trades_sync(*, bot_names: list[str] | None = None, since=None) -> dict:
    """Pull fills of live bots (history) and of archived bots (their archived db) into the ledger.

    Idempotent: a fill already stored is skipped (unique bot + trade_id, insert ignoring conflicts),
    so two runs at once still store each trade once. A bot whose call fails is reported and skipped.
    """
    bots = Bot.objects.exclude(hummingbot_name=None).select_related("account")
    if bot_names:
        bots = bots.filter(name__in=bot_names)
    report = {"bots": 0, "new": 0, "known": 0, "failed": {}}
    archived_dbs = None
    for bot in bots:
        try:
            if bot.status in (Status.ARCHIVED, Status.ARCHIVING):
                if bot.status == Status.ARCHIVED and bot.trades_synced_at and bot.trades_synced_at > bot.updated_at:
                    continue  # its archive was read completely after it was archived
                if archived_dbs is None:
                    archived_dbs = get_client().archived_bots()
                fills = _archived_fills(bot, archived_dbs, since)
                if fills is None:
                    continue  # not archived upstream yet: the live history was read while it ran
            else:
                fills = get_client().bot_history(bot.hummingbot_name, days=_history_days(bot, since))
        except HummingbotError as exc:
            report["failed"][bot.name] = exc.message
            Bot.objects.filter(pk=bot.pk).update(trades_sync_error=exc.message)
            continue
        new, known = _store_fills(bot, fills)
        report["bots"] += 1
        report["new"] += new
        report["known"] += known
    return report


def _history_days(bot: Bot, since) -> int:
    """Whole days back to the last good sync: `days=0` would only cover the bot's current boot (docs/hummingbot-api.md §10)."""
    start = since or bot.trades_synced_at or bot.created_at
    return max(1, (timezone.now() - start).days + 1)


def archive_path(hummingbot_name: str, archived_dbs: list[str]) -> str | None:
    """The bot's database among GET /archived-bots/ paths, "bots/archived/<name>/data/<name>.sqlite" (§6)."""
    return next((path for path in archived_dbs if f"/{hummingbot_name}/" in path), None)


def _archived_fills(bot: Bot, archived_dbs: list[str], since):
    db = archive_path(bot.hummingbot_name, archived_dbs)
    if db is None:
        return None
    fills, offset = [], 0
    while True:
        page = get_client().archived_trades(db, limit=ARCHIVE_PAGE, offset=offset)
        fills.extend(page.fills)
        offset += len(page.fills)
        if not page.has_more or not page.fills:
            break
    return [f for f in fills if since is None or f.timestamp >= since]


def _store_fills(bot: Bot, fills) -> tuple[int, int]:
    """Bulk insert the fills not yet stored; returns (new, already known)."""
    now = timezone.now()
    if fills:
        oldest = min(f.timestamp for f in fills)
        known_ids = set(Trade.objects.filter(bot=bot, timestamp__gte=oldest).values_list("trade_id", flat=True))
    else:
        known_ids = set()
    fresh = [f for f in {f.trade_id: f for f in fills}.values() if f.trade_id not in known_ids]
    ledger.insert_fills(bot, fresh)
    Bot.objects.filter(pk=bot.pk).update(trades_synced_at=now, trades_sync_error="")
    return len(fresh), len(fills) - len(fresh)
