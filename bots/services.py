"""Every write and every business rule. Callers (admin, API, commands, tasks) call one function here.

Lifecycle mapped to the upstream: ../shared/DESIGN.md §3 and contracts/hummingbot-api.md §2, §10.
Pending states are set with a conditional update before the upstream call, so two clicks make one
call; on failure the row goes back to a truthful state and a BotEvent says what happened.
"""
from __future__ import annotations

import re
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from bots import ledger, selectors, strategies
from bots.hummingbot.client import BotStatus, ServerInfo, get_client
from bots.hummingbot.errors import HummingbotError, HummingbotNotFound
from bots.models import Account, Bot, BotEvent, Trade

Status = Bot.Status
SYSTEM = "system"
# Hummingbot names a deployed bot "<instance_name>-YYYYmmdd-HHMMSS" (contracts §2).
DEPLOY_SUFFIX = re.compile(r"-\d{8}-\d{6}\Z")
# A pending state the upstream has not confirmed after this long is resolved to what it shows.
PENDING_GRACE = timedelta(minutes=2)
ARCHIVING_GRACE = timedelta(minutes=5)
ACTIVE_STATUSES = (Status.DEPLOYING, Status.STARTING, Status.RUNNING, Status.IDLE, Status.STOPPING)
STARTABLE = (Status.STOPPED, Status.ERROR, Status.NOT_FOUND)
STOPPABLE = (Status.RUNNING, Status.IDLE, Status.STARTING)


class StateConflict(Exception):
    """The bot is not in a state that allows the action (e.g. Start on a running bot)."""


# --- helpers -----------------------------------------------------------------------------------


def _actor(user) -> str:
    return user.get_username() if user is not None and user.is_authenticated else SYSTEM


def _record(*, action: str, ok: bool, user=None, bot: Bot | None = None, account: Account | None = None, detail=""):
    return BotEvent.objects.create(
        bot=bot, account=account or (bot.account if bot else None), actor=_actor(user), action=action, ok=ok,
        detail=str(detail)[:2000],
    )


def _transition(bot: Bot, *, allowed, to: str, **fields) -> bool:
    """Compare-and-set on the status: True only for the caller that won the transition."""
    changed = Bot.objects.filter(pk=bot.pk, status__in=allowed).update(status=to, updated_at=timezone.now(), **fields)
    if changed:
        bot.status = to
        for name, value in fields.items():
            setattr(bot, name, value)
    return bool(changed)


def _fail(bot: Bot, exc: HummingbotError, *, status: str, action: str, user) -> None:
    Bot.objects.filter(pk=bot.pk).update(status=status, last_error=exc.message, updated_at=timezone.now())
    bot.status, bot.last_error = status, exc.message
    _record(action=action, ok=False, user=user, bot=bot, detail=exc.message)


# --- server ------------------------------------------------------------------------------------


def hummingbot_check() -> ServerInfo:
    """Reachable and the credentials work; raises HummingbotError otherwise."""
    return get_client().check()


def hummingbot_overview() -> dict:
    """What `check_hummingbot` prints: server identity, auth ok, and how many bots it runs."""
    client = get_client()
    info = client.check()
    return {"name": info.name, "version": info.version, "sandbox": info.sandbox, "bots": len(client.bots_status())}


def system_health() -> dict:
    """Database and Hummingbot reachability, for load balancers and the panel's banner."""
    report = {"database": {"ok": True}, "hummingbot": {"ok": True}}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any driver error means "database down" for a health check
        report["database"] = {"ok": False, "error": exc.__class__.__name__}
    try:
        info = hummingbot_check()
        report["hummingbot"].update(version=info.version, sandbox=info.sandbox)
    except HummingbotError as exc:
        report["hummingbot"] = {"ok": False, "error": exc.message, "code": exc.code}
    report["ok"] = report["database"]["ok"] and report["hummingbot"]["ok"]
    return report


# --- accounts ----------------------------------------------------------------------------------


def account_create(*, name: str, label: str = "", user=None) -> Account:
    """Create the account in Hummingbot first (deploy needs its credentials folder), then here."""
    account = Account(name=name, label=label)
    account.full_clean()
    try:
        if name not in get_client().list_accounts():
            get_client().add_account(name)
    except HummingbotError as exc:
        _record(action="account_create", ok=False, user=user, detail=f"{name}: {exc.message}")
        raise
    account.save()
    _record(action="account_create", ok=True, user=user, account=account, detail=name)
    return account


def connector_fields(connector: str) -> dict:
    """The credential fields Hummingbot expects for a connector (its config-map), for the keys form."""
    return get_client().connector_config_map(strategies.clean_connector(connector))


def account_add_credentials(*, account: Account, connector: str, fields: dict, user=None) -> None:
    """Forward exchange keys to Hummingbot; they are never stored or logged here."""
    connector = strategies.clean_connector(connector)
    try:
        get_client().add_credentials(account.name, connector, fields)
    except HummingbotError as exc:
        _record(action="credentials", ok=False, user=user, account=account, detail=f"{connector}: {exc.message}")
        raise
    _record(action="credentials", ok=True, user=user, account=account, detail=connector)


# --- bots --------------------------------------------------------------------------------------


def bot_create(
    *, name: str, account: Account, strategy: str, connector: str, trading_pair: str, params: dict, user=None
) -> Bot:
    """Validate, store the row as `deploying`, then save config → validate → deploy upstream.

    Raises ValidationError for bad input (nothing written, nothing sent) and HummingbotError
    for upstream failures (the row stays, as `error` with `last_error`).
    """
    bot = _validated_new_bot(
        name=name, account=account, strategy=strategy, connector=connector, trading_pair=trading_pair, params=params
    )
    bot.created_by = user if user is not None and user.is_authenticated else None
    try:
        _ensure_name_free_upstream(bot.name)
    except HummingbotError as exc:
        _record(action="create", ok=False, user=user, account=account, detail=f"{name}: {exc.message}")
        raise
    try:
        with transaction.atomic():
            _self_trade_guard(bot)
            bot.save()
    except IntegrityError:
        raise ValidationError({"name": f"A bot named '{name}' already exists."}) from None
    try:
        _deploy(bot)
    except HummingbotError as exc:
        _fail(bot, exc, status=Status.ERROR, action="create", user=user)
        raise
    _record(action="create", ok=True, user=user, bot=bot, detail=f"deployed as {bot.hummingbot_name}")
    return bot


def _validated_new_bot(*, name, account, strategy, connector, trading_pair, params) -> Bot:
    if strategy not in strategies.STRATEGIES:
        raise ValidationError({"strategy": f"Unknown strategy '{strategy}': use one of {', '.join(strategies.STRATEGIES)}."})
    try:
        cleaned = strategies.clean_params(strategy, connector, trading_pair, params)
    except strategies.ParamsError as exc:
        raise ValidationError({field: [message] for field, message in exc.errors.items()}) from None
    pair = strategies.clean_trading_pair(connector, trading_pair)
    bot = Bot(
        name=name, account=account, strategy=strategy, connector=connector, trading_pair=pair, params=cleaned,
        status=Status.DEPLOYING,
    )
    bot.full_clean(exclude=["status"])
    return bot


def _self_trade_guard(bot: Bot) -> None:
    """A volume bot's taker legs would hit a spread bot's quotes on the same account and pair.

    Runs inside a transaction; locking the account row serialises creates and starts per account,
    so two of them can't both pass the check. SQLite has no row locks: there the check is best effort.
    """
    other = {"spread": "volume", "volume": "spread"}.get(bot.strategy)
    if other is None or bot.account_id is None:
        return
    Account.objects.select_for_update().filter(pk=bot.account_id).exists()
    clash = Bot.objects.filter(
        account=bot.account, connector=bot.connector, trading_pair=bot.trading_pair, strategy=other,
        status__in=ACTIVE_STATUSES,
    ).exclude(pk=bot.pk)
    found = clash.first()
    if found is not None:
        raise ValidationError(
            {"strategy": f"Bot '{found.name}' already runs {other} on {bot.account} {bot.connector} {bot.trading_pair}: "
             f"a {bot.strategy} bot there would trade against it. Stop it first."}
        )


def _ensure_name_free_upstream(name: str) -> None:
    """Hummingbot may run bots this panel did not create; a second one of that name would confuse both."""
    ours = set(Bot.objects.exclude(hummingbot_name=None).values_list("hummingbot_name", flat=True))
    theirs = {DEPLOY_SUFFIX.sub("", hb_name) for hb_name in get_client().bots_status() if hb_name not in ours}
    if name in theirs:
        raise ValidationError(
            {"name": f"Hummingbot already runs a bot named '{name}' that this panel did not create; choose another name."}
        )


def _deploy(bot: Bot) -> None:
    """Save the controller config, let Hummingbot validate it, deploy; store the name it returns."""
    client = get_client()
    controller_type, controller_name = strategies.controller_ref(bot.strategy)
    if bot.strategy == Bot.Strategy.VOLUME:
        _ensure_volume_controller_uploaded(client, controller_type, controller_name)
    config = strategies.controller_config(bot.strategy, bot.config_name, bot.connector, bot.trading_pair, bot.params)
    client.save_controller_config(bot.config_name, config)
    client.validate_controller_config(controller_type, controller_name, config)
    deployment = client.deploy_controllers(
        instance_name=bot.name,
        credentials_profile=bot.account.name,
        controllers=[bot.config_name],
        image=settings.HUMMINGBOT_IMAGE,
        **strategies.deploy_limits(bot.params),
    )
    _transition(
        bot, allowed=[bot.status], to=Status.STARTING, hummingbot_name=deployment.unique_instance_name,
        last_error="", missed_syncs=0,
    )


def _ensure_volume_controller_uploaded(client, controller_type: str, controller_name: str) -> None:
    if controller_name not in client.list_controllers().get(controller_type, []):
        client.upload_controller(controller_type, controller_name, strategies.volume_taker_source())


def bot_start(*, bot: Bot, user=None) -> Bot:
    """Restart the bot's container (MQTT start is broken on Hummingbot >= 2.13), or redeploy it when gone."""
    return _pending_call(
        bot, user=user, action="start", allowed=STARTABLE, pending=Status.STARTING,
        refusal="only a stopped bot can be started.", call=lambda: _start_upstream(bot), guard=_self_trade_guard,
        last_error="",
    )


def _pending_call(
    bot: Bot, *, user, action: str, allowed, pending: str, refusal: str, call, detail: str = "", guard=None, **fields
) -> Bot:
    """Set the pending state (compare-and-set), make the one upstream call, then record the outcome.

    `guard(bot)` runs in the same short transaction as the state change. `call` may return the
    event's detail (else `detail` is used). On failure the bot goes back to the status it had,
    with the reason in `last_error`.
    """
    previous = bot.status
    with transaction.atomic():
        if guard is not None:
            try:
                guard(bot)
            except ValidationError as exc:
                raise StateConflict(" ".join(exc.messages)) from None
        moved = _transition(bot, allowed=allowed, to=pending, **fields)
    if not moved:
        raise StateConflict(f"Bot '{bot.name}' is {bot.status}; {refusal}")
    try:
        detail = call() or detail
    except HummingbotError as exc:
        _fail(bot, exc, status=previous, action=action, user=user)
        raise
    _record(action=action, ok=True, user=user, bot=bot, detail=detail)
    return bot


def _start_upstream(bot: Bot) -> str:
    client = get_client()
    name = bot.hummingbot_name
    if name and _is_active_upstream(client, name):
        # Read its fills first: a restart is where a lost fill would hurt. Failures stay on the row.
        trades_sync(bot_names=[bot.name])
        # The container boots with its script config and starts the strategy (contracts §10).
        client.stop_container(name)
        client.start_container(name)
        return f"restarted container {name}"
    if name and any(c.name == name for c in client.exited_containers(name_filter=name)):
        client.start_container(name)
        return f"started container {name}"
    _deploy(bot)
    return f"redeployed as {bot.hummingbot_name}"


def _is_active_upstream(client, name: str) -> bool:
    try:
        client.bot_status(name)
    except HummingbotNotFound:
        return False
    return True


def bot_stop(*, bot: Bot, user=None) -> Bot:
    """Fire-and-forget stop with order cancellation; `stopping` until the status call confirms it."""
    client = get_client()
    return _pending_call(
        bot, user=user, action="stop", allowed=STOPPABLE, pending=Status.STOPPING,
        refusal="only a running bot can be stopped.",
        call=lambda: client.stop_bot(bot.hummingbot_name), detail="stop sent, orders cancelled",
    )


def bot_archive(*, bot: Bot, user=None) -> Bot:
    """Stop and archive upstream (orders cancelled); the row and its trades are kept as `archived`."""
    archivable = [s for s in Status.values if s not in (Status.ARCHIVING, Status.ARCHIVED, Status.DEPLOYING)]
    if not bot.hummingbot_name:
        # Never deployed (a failed create): nothing exists upstream to archive.
        return _pending_call(
            bot, user=user, action="archive", allowed=archivable, pending=Status.ARCHIVED, refusal="it cannot be archived.",
            call=lambda: None, detail="never deployed; archived here only",
        )
    client = get_client()
    return _pending_call(
        bot, user=user, action="archive", allowed=archivable, pending=Status.ARCHIVING,
        refusal="it cannot be archived now.", missed_syncs=0,
        call=lambda: client.stop_and_archive_bot(bot.hummingbot_name), detail="stop-and-archive started",
    )


def stop_all(*, account: Account | None = None, user=None) -> dict:
    """Kill switch: stop every running bot (of one account, or all). Reports per-bot failures."""
    bots = Bot.objects.filter(status__in=STOPPABLE).select_related("account")
    if account is not None:
        bots = bots.filter(account=account)
    result = {"stopped": [], "failed": {}}
    for bot in bots:
        try:
            bot_stop(bot=bot, user=user)
            result["stopped"].append(bot.name)
        except (HummingbotError, StateConflict) as exc:
            result["failed"][bot.name] = str(exc)
    _record(
        action="stop_all", ok=not result["failed"], user=user, account=account,
        detail=f"stopped {len(result['stopped'])}, failed {len(result['failed'])}",
    )
    return result


# --- sync --------------------------------------------------------------------------------------


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


# What the upstream must show to confirm each pending state (archiving is confirmed by absence).
EXPECTED_AFTER = {
    Status.DEPLOYING: (Status.RUNNING, Status.IDLE),
    Status.STARTING: (Status.RUNNING, Status.IDLE),
    Status.STOPPING: (Status.STOPPED,),
    Status.ARCHIVING: (),
}


def map_status(current: str, upstream: BotStatus | None, *, pending_since, now) -> str:
    """Our status from the upstream's entry (None = absent from the status list). The one mapping."""
    if upstream is None:
        return current
    if upstream.status in ("running", "idle"):
        # A stopped v2 bot keeps sending empty controller reports: "active, no figures" is stopped (§10).
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
        _record(action="sync", ok=True, detail="Hummingbot API reachable again")
    now = timezone.now()
    deployed = Bot.objects.exclude(hummingbot_name=None)
    if not store_details:  # the JSON columns are the costly part of loading 1,000 rows
        deployed = deployed.only("id", "name", "hummingbot_name", "status", "updated_at", "missed_syncs", "account_id")
    deployed = list(deployed)
    # Archived rows stay known: their bot can linger in the upstream list for a while (§10).
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
        if new != bot.status and _transition(bot, allowed=[bot.status], to=new, **(note if unconfirmed else {})):
            report["changed"] += 1
            _record(action="sync", ok=True, bot=bot, detail=f"status now {new}")
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
        _record(action="sync", ok=False, detail=exc.message)


def _status_payload(upstream: BotStatus) -> dict:
    return {
        "status": upstream.status, "performance": upstream.performance, "recently_active": upstream.recently_active,
        "source": upstream.source, "error_logs": upstream.error_logs[-5:],
    }


def _resolve_missing(missing: list[Bot], now, report: dict) -> None:
    """The upstream list blinks (two sources, §2): act only after several consecutive misses."""
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
        if _transition(bot, allowed=[bot.status], to=to):
            report[key] += 1
            _record(action="sync", ok=True, bot=bot, detail=f"absent from Hummingbot's status list: now {to}")


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
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    taken.add(name)
    return name


# --- trades ------------------------------------------------------------------------------------

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
    """Whole days back to the last good sync: `days=0` would only cover the bot's current boot (§10)."""
    start = since or bot.trades_synced_at or bot.created_at
    return max(1, (timezone.now() - start).days + 1)


def _archived_fills(bot: Bot, archived_dbs: list[str], since):
    db = next((path for path in archived_dbs if f"/{bot.hummingbot_name}/" in path), None)
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
