"""Keep the database equal to what Hummingbot runs: statuses, pending states, adoption, vanishing."""
from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, IntegrityError, transaction
from django.db.models import OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from bots import precompiled, selectors
from bots.hummingbot.client import BotStatus, HummingbotClient, get_client
from bots.hummingbot.errors import HummingbotError
from bots.models import Bot, BotEvent, BotListVersion, HummingbotServer, SyncState
from bots.services import alerts
from bots.services.common import SYSTEM, record, transition
from bots.services.lifecycle import DEPLOY_SUFFIX, deployed_instance, reattach
from bots.services.performance import FIGURES, record_performance, reported_figures
from bots.services.trades import archive_path
from bots.states import ARCHIVING_GRACE, EXPECTED_AFTER, PENDING_GRACE
from bots.validators import is_reserved_bot_name

Status = Bot.Status
PERFORMANCE_FIELDS = [f"perf_{field}" for field in FIGURES]


class ListRefresh(NamedTuple):
    """What GET /bots is built from: each server with the sync state the list reports (None: never attempted), and
    the list's version read with them (bots/list_version.py), its ETag."""

    servers: list[tuple[HummingbotServer, SyncState | None]]
    version: int


def bots_refresh_if_due(*, server_name: str | None = None) -> ListRefresh:
    """Sync statuses for a list request, per server, only when that server's last attempt (failed ones too, so a
    down Hummingbot is not hammered) is BOTS_SYNC_SECONDS old; across processes one poller wins each server's claim,
    the others serve the database. Raises HummingbotServer.DoesNotExist for an unknown `server_name`."""
    now = timezone.now()
    read = _servers_with_state(server_name)
    synced = False
    for server, state in read.servers:
        if (state is None or state.last_attempt_at is None or now - state.last_attempt_at >= _interval()) \
                and _claim(server.name, state, now):
            synced = True
            try:
                bots_sync(server=server, store_details=False, started=now)
            except HummingbotError:
                pass  # recorded in the state by bots_sync; the list answers from the database
    return _servers_with_state(server_name) if synced else read  # the states and the version the syncs left


def _servers_with_state(server_name: str | None) -> ListRefresh:
    """The servers, their sync states and the list's version in one query (the list's budget is three, a 304's two,
    docs/design.md §10)."""
    if server_name is not None and not selectors.NAME_RE.fullmatch(server_name):  # PostgreSQL refuses a NUL
        raise HummingbotServer.DoesNotExist(f"No Hummingbot server named {server_name!r}.")
    rows = precompiled.fetch_rows(_servers_and_states, server_name)
    if not rows:
        if server_name is not None:
            raise HummingbotServer.DoesNotExist(f"No Hummingbot server named {server_name!r}.")
        HummingbotServer.default()  # a fresh or flushed database: the zero-configuration server
        return _servers_with_state(None)
    listed = []
    for row in rows:
        server = HummingbotServer.from_db(DEFAULT_DB_ALIAS, _SERVER_FIELDS, row[:len(_SERVER_FIELDS)])
        state_id, *state = row[len(_SERVER_FIELDS):-1]
        listed.append((server, None if state_id is None else SyncState(
            id=state_id, scope=server.name, **dict(zip(_STATE_FIELDS, state)))))
    return ListRefresh(listed, version=rows[0][-1] or 0)  # no row yet: nothing written since a flush


_SERVER_FIELDS = [field.attname for field in HummingbotServer._meta.concrete_fields]
_STATE_FIELDS = ["last_attempt_at", "last_ok_at", "last_error", "last_error_code"]


def _servers_and_states(server_name: str | None):
    servers = HummingbotServer.objects.all()
    if server_name is not None:
        servers = servers.filter(name=server_name)
    state = SyncState.objects.filter(scope=OuterRef("name"))
    columns = ["id", *_STATE_FIELDS]
    return servers.annotate(
        **{f"state_{column}": Subquery(state.values(column)[:1]) for column in columns},
        list_version=Subquery(BotListVersion.objects.values("value")[:1]),  # one row
    ).values_list(*_SERVER_FIELDS, *(f"state_{column}" for column in columns), "list_version")


def _interval() -> timedelta:
    return timedelta(seconds=settings.BOTS_SYNC_SECONDS)


def _claim(scope: str, state: SyncState | None, now) -> bool:
    """Compare-and-set on last_attempt_at: concurrent UPDATEs of one row serialise (PostgreSQL re-checks the WHERE
    on the row the winner committed; SQLite has one writer), so exactly one caller per interval gets True."""
    if state is None:
        try:
            with transaction.atomic():
                SyncState.objects.create(scope=scope, last_attempt_at=now)
            return True
        except IntegrityError:
            return False
    due = Q(last_attempt_at__isnull=True) | Q(last_attempt_at__lte=now - _interval())
    return SyncState.objects.filter(due, scope=scope).update(last_attempt_at=now) == 1


def _record_attempt(started, *, scope: str, ok_at=None, error: HummingbotError | None = None) -> None:
    outcome = {"last_error": f"{scope}: {error.message}", "last_error_code": error.code} if error else {
        "last_ok_at": ok_at, "last_error": "", "last_error_code": ""}
    if not SyncState.objects.filter(scope=scope).update(last_attempt_at=started, **outcome):
        SyncState.objects.get_or_create(scope=scope, defaults={"last_attempt_at": started, **outcome})


def bot_upstream_detail(bot: Bot) -> dict:
    """Live status and performance of one bot, or why it is not available."""
    if not bot.hummingbot_name or bot.status == Status.ARCHIVED:
        return {"ok": False, "error": "The bot is not deployed in Hummingbot.", "code": "not_deployed"}
    try:
        return {"ok": True, **_status_payload(get_client(bot.server).bot_status(bot.hummingbot_name))}
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


def bots_sync_all() -> dict[str, dict | HummingbotError]:
    """Every server's statuses, one after the other (the scheduled sync runs them as separate tasks instead):
    each server's report, or the error that server answered."""
    reports = {}
    for server in HummingbotServer.every():
        try:
            reports[server.name] = bots_sync(server=server)
        except HummingbotError as exc:
            reports[server.name] = exc
    return reports


def bots_sync(*, server: HummingbotServer | None = None, store_details: bool = True, started=None) -> dict:
    """One status call for the bots of one Hummingbot server (None: the default one): update statuses, keep the
    reported performance that changed (services/performance.py), resolve pending states, adopt, mark vanished.
    Another server's bots are never touched: its outage is its own.

    `store_details=False` (used by `GET /bots`) skips saving each bot's raw status payload, so the
    number of queries stays constant however many bots there are. `started`: when the caller claimed the attempt.
    """
    started = started or timezone.now()
    server = server or HummingbotServer.default()
    try:
        client = get_client(server)
        statuses = client.bots_status()
    except HummingbotError as exc:
        _record_sync_failure(server, exc)
        _record_attempt(started, scope=server.name, error=exc)
        alerts.status_sync_failed(server=server, error=exc, now=timezone.now())
        raise
    if selectors.hummingbot_outage(server.name) is not None:
        record(action="sync", ok=True, detail=f"{server.name}: Hummingbot API reachable again")
    now = timezone.now()
    tracked = Bot.objects.filter(
        Q(hummingbot_name__isnull=False) | Q(deploy_intent_at__isnull=False) | Q(status=Status.DEPLOYING), server=server
    )
    if not store_details:  # the JSON columns are the costly part of loading 1,000 rows
        tracked = tracked.only(
            "id", "name", "hummingbot_name", "status", "updated_at", "absent_since", "deploy_intent_at", "account_id",
            "strategy", "connector", "created_at",
            *PERFORMANCE_FIELDS,  # compared with the new report
        )
    tracked = list(tracked)
    before = {bot.pk: bot.status for bot in tracked}  # the alerts tell a stop nobody asked for by the move
    # Archived rows stay known: their bot can linger in the upstream list for a while (docs/hummingbot-api.md §10).
    known = {bot.hummingbot_name for bot in tracked if bot.hummingbot_name}
    report = {"seen": 0, "changed": 0, "adopted": 0, "vanished": 0, "archived": 0, "reattached": 0}
    _resolve_unanswered_deploys([bot for bot in tracked if bot.status != Status.ARCHIVED], statuses, known, now, report)
    bots = [bot for bot in tracked if bot.hummingbot_name and bot.status != Status.ARCHIVED]
    settled = _settle_archiving(client, [bot for bot in bots if bot.status == Status.ARCHIVING], statuses, now, report)
    seen, missing = [], []
    for bot in bots:
        if bot.pk in settled:
            continue  # the status list may still show it (MQTT lingers, blinking): never read it back from there
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
    reported = {bot: reported_figures(statuses[bot.hummingbot_name].performance) for bot in seen}
    for pks, performance in record_performance(reported, now=now):  # the seen bots, by what their report changed
        Bot.objects.filter(pk__in=pks).update(status_synced_at=now, absent_since=None, **performance)
    if store_details:
        for bot in seen:
            bot.upstream_status = _status_payload(statuses[bot.hummingbot_name])
        Bot.objects.bulk_update(seen, ["upstream_status"], batch_size=200)
    _resolve_missing(missing, now, report)
    reads = MarketReads(client)
    report["adopted"] = _adopt_unknown(server, statuses, known, now, reads)
    _read_adopted_markets([bot for bot in bots if _market_unread(bot, now)], reads)
    _record_attempt(started, scope=server.name, ok_at=now)  # the bots' status_synced_at: list and rows agree
    alerts.status_synced(server=server, bots=tracked, before=before, statuses=statuses, now=now, full=store_details)
    return report


def _record_sync_failure(server: HummingbotServer, exc: HummingbotError) -> None:
    """One event per outage, not one per poll: skip when the server's last sync event says the same."""
    outage = selectors.hummingbot_outage(server.name)
    detail = f"{server.name}: {exc.message}"
    if outage is None or outage.detail != detail:
        record(action="sync", ok=False, detail=detail)


def _status_payload(upstream: BotStatus) -> dict:
    return {
        "status": upstream.status, "performance": upstream.performance, "recently_active": upstream.recently_active,
        "source": upstream.source, "error_logs": upstream.error_logs[-5:],
    }


def _resolve_unanswered_deploys(bots: list[Bot], statuses: dict, known: set, now, report: dict) -> None:
    """Rows whose deploy answer was lost (timeout, dropped connection, killed process) or whose create died
    before deploying: reattach the instance the deploy created, or say after the grace period that none was."""
    for bot in bots:
        if bot.deploy_intent_at is not None:
            found = deployed_instance(bot, [name for name in statuses if name not in known])
            if found is not None:
                known.add(found)
                report["reattached"] += reattach(bot, found)
                continue
            since, reason = bot.deploy_intent_at, "deploy did not happen; safe to start again"
        elif bot.hummingbot_name is None:
            since, reason = bot.updated_at, "create did not finish (its process stopped before deploying); safe to start again"
        else:
            continue
        if bot.status in (Status.DEPLOYING, Status.STARTING) and now - since >= PENDING_GRACE:
            if transition(bot, allowed=[bot.status], to=Status.ERROR, last_error=reason):
                report["changed"] += 1
                record(action="sync", ok=False, bot=bot, detail=reason)


def _resolve_missing(missing: list[Bot], now, report: dict) -> None:
    """Absence is judged over time, never by the number of calls: the list blinks and every GET /bots is a
    call (docs/hummingbot-api.md §2, §10). A running bot gone that long is `not_found`; an archiving one is settled
    by its archive (_settle_archiving)."""
    if not missing:
        return
    Bot.objects.filter(pk__in=[bot.pk for bot in missing]).update(
        absent_since=Coalesce("absent_since", Value(now)), status_synced_at=now
    )
    for bot in missing:
        if not _absent_long_enough(bot, now) or bot.status in (Status.ARCHIVING, Status.STOPPED, Status.ERROR,
                                                                Status.NOT_FOUND):
            continue  # the others already say it is not running
        if transition(bot, allowed=[bot.status], to=Status.NOT_FOUND):
            report["vanished"] += 1
            record(action="sync", ok=True, bot=bot, detail=f"absent from Hummingbot's status list for "
                                                            f"{settings.VANISHED_AFTER_SECONDS} s: now {Status.NOT_FOUND}")


def _absent_long_enough(bot: Bot, now) -> bool:
    """Missing from the status list since at least VANISHED_AFTER_SECONDS (as of the previous syncs)."""
    return bot.absent_since is not None and now - bot.absent_since >= timedelta(seconds=settings.VANISHED_AFTER_SECONDS)


def _settle_archiving(client: HummingbotClient, bots: list[Bot], statuses: dict[str, BotStatus], now,
                      report: dict) -> set[int]:
    """`archived` at the first sync that sees the proof: its database is listed under /archived-bots/ and its
    container is gone. The archiver copies the instance once the container has exited and removes the container
    after the copy (docs/hummingbot-api.md §3), so both together mean the archive is complete; the status list may
    still show the bot for up to 30 s (MQTT), blinking, and is not waited for (§10). A bot still unconfirmed after
    ARCHIVING_GRACE and absent from the status list is resolved to what remains. Asks Hummingbot only while a bot
    is archiving: the archive list once, the containers of each bot whose archive is listed (or overdue).
    Returns the bots settled: the rest of the sync leaves them alone."""
    if not bots:
        return set()
    overdue = {bot.pk for bot in bots if now - bot.updated_at >= ARCHIVING_GRACE
               and bot.hummingbot_name not in statuses and _absent_long_enough(bot, now)}
    try:
        archives = client.archived_bots()
        listed = {bot.pk for bot in bots if archive_path(bot.hummingbot_name, archives) is not None}
        leftover = {bot.pk for bot in bots if bot.pk in listed | overdue and _container_left(client, bot)}
    except HummingbotError:
        return set()  # unconfirmed: stays `archiving`; the next sync asks again
    settled = set()
    for bot in bots:
        if bot.pk in listed and bot.pk not in leftover:
            to, key, fields = Status.ARCHIVED, "archived", {}
            detail = "archived: Hummingbot lists its archive and its container is gone"
        elif bot.pk in overdue:
            reason = "its container still exists" if bot.pk in leftover else "Hummingbot shows no archive of it"
            to, key = (Status.STOPPED if bot.pk in leftover else Status.NOT_FOUND), "vanished"
            fields = {"last_error": f"Stop-and-archive did not finish: {reason}."}
            detail = f"archive not confirmed in time ({reason}): now {to}"
        else:
            continue
        settled.add(bot.pk)
        if transition(bot, allowed=[Status.ARCHIVING], to=to, status_synced_at=now, **fields):
            report[key] += 1
            record(action="sync", ok=bot.status == Status.ARCHIVED, bot=bot, detail=detail)
    return settled


def _container_left(client: HummingbotClient, bot: Bot) -> bool:
    """An exited container of exactly this name (the filter matches substrings, §7). A running one cannot remain:
    the archiver copies only after the container exited."""
    return any(c.name == bot.hummingbot_name for c in client.exited_containers(name_filter=bot.hummingbot_name))


def _adopt_unknown(server: HummingbotServer, statuses: dict[str, BotStatus], known: set, now,
                   reads: MarketReads) -> int:
    """Bots a Hummingbot runs that we did not create are shown as `external` of that server, so nothing runs
    unseen, with their market when it can be read; their account is unknown (the status payload does not name it),
    their server is not."""
    unknown = [name for name in statuses if name not in known]
    if not unknown:
        return 0
    taken = set(Bot.objects.values_list("name", flat=True))
    markets = {hb_name: reads.market(hb_name) for hb_name in unknown}
    adopted = [
        Bot(
            name=_free_name(DEPLOY_SUFFIX.sub("", hb_name), taken), hummingbot_name=hb_name, server=server,
            strategy=Bot.Strategy.EXTERNAL, upstream_status=_status_payload(statuses[hb_name]), status_synced_at=now,
            status=map_status(Status.RUNNING, statuses[hb_name], pending_since=None, now=now),
            connector=markets[hb_name].connector, trading_pair=markets[hb_name].trading_pair,
        )
        for hb_name in unknown
    ]
    Bot.objects.bulk_create(adopted, ignore_conflicts=True)
    BotEvent.objects.bulk_create(
        BotEvent(bot=bot, actor=SYSTEM, action="adopt", ok=True,
                 detail=f"found in Hummingbot as {bot.hummingbot_name}{markets[bot.hummingbot_name].note}")
        for bot in Bot.objects.filter(hummingbot_name__in=unknown, server=server)
    )
    return len(adopted)


# An adopted bot's market is read from its own controller configs (docs/hummingbot-api.md §4.1) once; a read that
# failed is tried again on later syncs for this long after adoption, and a sync reads at most this many (a burst of
# adopted bots is read over a few syncs, and `GET /bots`, which may run the sync inline, stays quick).
ADOPTED_MARKET_RETRY = timedelta(minutes=5)
ADOPTED_MARKET_READS_PER_SYNC = 20


class Market(NamedTuple):
    connector: str  # "" when not read
    trading_pair: str
    note: str  # for the audit: ", on <connector> <pair>" or "; market not read (why)"


class MarketReads:
    """A sync's budget of per-bot config reads."""

    def __init__(self, client: HummingbotClient):
        self.client, self.left = client, ADOPTED_MARKET_READS_PER_SYNC

    def market(self, hummingbot_name: str) -> Market:
        if self.left <= 0:
            return Market("", "", "; market read on a later sync")
        self.left -= 1
        try:
            configs = self.client.bot_controller_configs(hummingbot_name)
        except HummingbotError as exc:
            return Market("", "", f"; market not read ({exc.message}): tried again on later syncs")
        markets = list(dict.fromkeys(
            (config.get("connector_name"), config.get("trading_pair")) for _, config in sorted(configs.items())))
        if not markets:
            return Market("", "", "; market not read (its instance holds no controller config)")
        connector, pair = markets[0]
        if not _fits_a_bot_row(connector=connector, trading_pair=pair):
            return Market("", "", f"; market not understood (connector {connector!r}, pair {pair!r})")
        note = f", on {connector} {pair}"
        if len(markets) > 1:
            named = ", ".join(f"{c} {p}" for c, p in markets)
            note += f" (its controllers trade {len(markets)} markets: {named}; listed with the first)"
        return Market(connector, pair, note)


def _fits_a_bot_row(**values) -> bool:
    """Non-empty and valid for the Bot row's fields (their length and validators): what another tool wrote is
    never stored unchecked."""
    try:
        for name, value in values.items():
            Bot._meta.get_field(name).clean(value, None)
    except ValidationError:
        return False
    return all(values.values())


def _market_unread(bot: Bot, now) -> bool:
    return (bot.strategy == Bot.Strategy.EXTERNAL and not bot.connector and bot.status != Status.ARCHIVED
            and now - bot.created_at < ADOPTED_MARKET_RETRY)


def _read_adopted_markets(bots: list[Bot], reads: MarketReads) -> None:
    """Adopted bots whose market could not be read yet: try again, within the sync's budget."""
    for bot in bots:
        if reads.left <= 0:
            return
        market = reads.market(bot.hummingbot_name)
        if market.connector and Bot.objects.filter(pk=bot.pk, connector="").update(
                connector=market.connector, trading_pair=market.trading_pair):
            record(action="market", ok=True, bot=bot,
                   detail=f"market read from Hummingbot: {market.connector} {market.trading_pair}")


def _free_name(base: str, taken: set) -> str:
    base = base[: Bot._meta.get_field("name").max_length - 4] or "bot"
    name, n = base, 1
    while name in taken or is_reserved_bot_name(name):
        n += 1
        name = f"{base}-{n}"
    taken.add(name)
    return name
