"""Keep the database equal to what Hummingbot runs: statuses, pending states, adoption, vanishing."""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from bots import selectors
from bots.hummingbot.client import BotStatus, get_client
from bots.hummingbot.errors import HummingbotError
from bots.models import Bot, BotEvent
from bots.services.common import SYSTEM, record, transition
from bots.services.lifecycle import DEPLOY_SUFFIX
from bots.states import EXPECTED_AFTER
from bots.validators import is_reserved_bot_name

Status = Bot.Status
# A pending state the upstream has not confirmed after this long is resolved to what it shows.
PENDING_GRACE = timedelta(minutes=2)
ARCHIVING_GRACE = timedelta(minutes=5)


def bots_refresh() -> dict:
    """Sync statuses for a list request; when Hummingbot is down, say why and keep the last known state."""
    try:
        bots_sync(store_details=False)
    except HummingbotError as exc:
        return {"ok": False, "error": exc.message, "code": exc.code}
    return {"ok": True}


def bot_upstream_detail(bot: Bot) -> dict:
    """Live status and performance of one bot, or why it is not available."""
    if not bot.hummingbot_name or bot.status == Status.ARCHIVED:
        return {"ok": False, "error": "The bot is not deployed in Hummingbot.", "code": "not_deployed"}
    try:
        return {"ok": True, **_status_payload(get_client().bot_status(bot.hummingbot_name))}
    except HummingbotError as exc:
        return {"ok": False, "error": exc.message, "code": exc.code}


def map_status(current: str, upstream: BotStatus | None, *, pending_since, now) -> str:
    """Our status from the upstream's entry (None = absent from the status list). The one mapping."""
    if upstream is None:
        return current
    if upstream.status in ("running", "idle"):
        # A stopped v2 bot keeps sending empty controller reports: "active, no figures" is stopped (docs/hummingbot-api.md §10).
        seen = upstream.status if upstream.is_trading else Status.STOPPED
    elif upstream.status in ("stopped", "error", "not_found"):
        seen = upstream.status
    else:  # "stopping": a stop-and-archive is in progress upstream
        seen = Status.ARCHIVING
    if current in EXPECTED_AFTER and seen not in EXPECTED_AFTER[current]:
        grace = ARCHIVING_GRACE if current == Status.ARCHIVING else PENDING_GRACE
        if pending_since is None or now - pending_since < grace:
            return current
    return seen


def bots_sync(*, store_details: bool = True) -> dict:
    """One status call for all bots: update statuses, resolve pending states, adopt, mark vanished.

    `store_details=False` (used by `GET /bots`) skips saving each bot's raw status payload, so the
    number of queries stays constant however many bots there are.
    """
    try:
        statuses = get_client().bots_status()
    except HummingbotError as exc:
        _record_sync_failure(exc)
        raise
    if selectors.hummingbot_outage() is not None:
        record(action="sync", ok=True, detail="Hummingbot API reachable again")
    now = timezone.now()
    deployed = Bot.objects.exclude(hummingbot_name=None)
    if not store_details:  # the JSON columns are the costly part of loading 1,000 rows
        deployed = deployed.only("id", "name", "hummingbot_name", "status", "updated_at", "missed_syncs", "account_id")
    deployed = list(deployed)
    # Archived rows stay known: their bot can linger in the upstream list for a while (docs/hummingbot-api.md §10).
    known = {bot.hummingbot_name for bot in deployed}
    bots = [bot for bot in deployed if bot.status != Status.ARCHIVED]
    report = {"seen": 0, "changed": 0, "adopted": 0, "vanished": 0, "archived": 0}
    seen, missing = [], []
    for bot in bots:
        upstream = statuses.get(bot.hummingbot_name)
        if upstream is None:
            missing.append(bot)
            continue
        seen.append(bot)
        new = map_status(bot.status, upstream, pending_since=bot.updated_at, now=now)
        unconfirmed = bot.status in EXPECTED_AFTER and new not in EXPECTED_AFTER[bot.status]
        note = {"last_error": f"Hummingbot did not confirm '{bot.status}' in time; it reports the bot {new}."}
        if new != bot.status and transition(bot, allowed=[bot.status], to=new, **(note if unconfirmed else {})):
            report["changed"] += 1
            record(action="sync", ok=True, bot=bot, detail=f"status now {new}")
    report["seen"] = len(seen)
    Bot.objects.filter(pk__in=[bot.pk for bot in seen]).update(status_synced_at=now, missed_syncs=0)
    if store_details:
        for bot in seen:
            bot.upstream_status = _status_payload(statuses[bot.hummingbot_name])
        Bot.objects.bulk_update(seen, ["upstream_status"], batch_size=200)
    _resolve_missing(missing, now, report)
    report["adopted"] = _adopt_unknown(statuses, known, now)
    return report


def _record_sync_failure(exc: HummingbotError) -> None:
    """One event per outage, not one per poll: skip when the last sync event says the same."""
    outage = selectors.hummingbot_outage()
    if outage is None or outage.detail != exc.message:
        record(action="sync", ok=False, detail=exc.message)


def _status_payload(upstream: BotStatus) -> dict:
    return {
        "status": upstream.status, "performance": upstream.performance, "recently_active": upstream.recently_active,
        "source": upstream.source, "error_logs": upstream.error_logs[-5:],
    }


def _resolve_missing(missing: list[Bot], now, report: dict) -> None:
    """The upstream list blinks (two sources, docs/hummingbot-api.md §2): act only after several consecutive misses."""
    if not missing:
        return
    Bot.objects.filter(pk__in=[bot.pk for bot in missing]).update(missed_syncs=F("missed_syncs") + 1, status_synced_at=now)
    for bot in missing:
        if bot.missed_syncs + 1 < settings.VANISHED_AFTER_MISSES:
            continue
        if bot.status == Status.ARCHIVING:
            to, key = Status.ARCHIVED, "archived"
        elif bot.status in (Status.STOPPED, Status.ERROR, Status.NOT_FOUND):
            continue  # already says it is not running
        else:
            to, key = Status.NOT_FOUND, "vanished"
        if transition(bot, allowed=[bot.status], to=to):
            report[key] += 1
            record(action="sync", ok=True, bot=bot, detail=f"absent from Hummingbot's status list: now {to}")


def _adopt_unknown(statuses: dict[str, BotStatus], known: set, now) -> int:
    """Bots Hummingbot runs that we did not create are shown as `external`, so nothing runs unseen."""
    unknown = [name for name in statuses if name not in known]
    if not unknown:
        return 0
    taken = set(Bot.objects.values_list("name", flat=True))
    adopted = [
        Bot(
            name=_free_name(DEPLOY_SUFFIX.sub("", hb_name), taken), hummingbot_name=hb_name,
            strategy=Bot.Strategy.EXTERNAL, upstream_status=_status_payload(statuses[hb_name]), status_synced_at=now,
            status=map_status(Status.RUNNING, statuses[hb_name], pending_since=None, now=now),
        )
        for hb_name in unknown
    ]
    Bot.objects.bulk_create(adopted, ignore_conflicts=True)
    BotEvent.objects.bulk_create(
        BotEvent(bot=bot, actor=SYSTEM, action="adopt", ok=True, detail=f"found in Hummingbot as {bot.hummingbot_name}")
        for bot in Bot.objects.filter(hummingbot_name__in=unknown)
    )
    return len(adopted)


def _free_name(base: str, taken: set) -> str:
    base = base[: Bot._meta.get_field("name").max_length - 4] or "bot"
    name, n = base, 1
    while name in taken or is_reserved_bot_name(name):
        n += 1
        name = f"{base}-{n}"
    taken.add(name)
    return name
