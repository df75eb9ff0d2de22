"""Create, start, stop and archive (docs/hummingbot-api.md §2, §10).

Pending states are set with a conditional update before the upstream call, so two clicks make one
call; on failure the row goes back to a truthful state and a BotEvent says what happened.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from bots import strategies
from bots.hummingbot.client import get_client
from bots.hummingbot.errors import HummingbotError, HummingbotNotFound
from bots.models import Account, Bot
from bots.services import controllers, pretrade
from bots.services.common import StateConflict, fail, record, stored_params, transition
from bots.services.trades import trades_sync
from bots.states import ACTIVE, ARCHIVABLE, MAY_TRADE, STARTABLE, STOPPABLE, is_archivable

Status = Bot.Status
# Hummingbot names a deployed bot "<instance_name>-YYYYmmdd-HHMMSS" (docs/hummingbot-api.md §2).
DEPLOY_SUFFIX = re.compile(r"-\d{8}-\d{6}\Z")
# That stamp is the server's local time to the second; the two clocks may differ a little (README).
CLOCK_SKEW = timedelta(minutes=1)
OUTCOME_UNKNOWN = "outcome unknown: checking Hummingbot"


def bot_create(
    *, name: str, account: Account, strategy: str, connector: str, trading_pair: str, params: dict, user=None,
    confirm: bool = False,
) -> Bot:
    """Validate, run the pre-trade checks, store the row as `deploying`, then save config → validate → deploy upstream.

    Raises ValidationError for bad input or a pre-trade refusal (pretrade.Refused), pretrade.ConfirmationRequired
    for warnings not confirmed (nothing written, nothing sent in all three), and HummingbotError for upstream
    failures (the row stays, as `error` with `last_error`).
    """
    bot, setup = _validated_new_bot(
        name=name, account=account, strategy=strategy, connector=connector, trading_pair=trading_pair, params=params
    )
    confirmed = pretrade.enforce(pretrade.new_bot_assessment(account=account, setup=setup), confirm=confirm)
    bot.created_by = user if user is not None and user.is_authenticated else None
    bot.server = account.server  # the account's Hummingbot runs its bots
    try:
        _ensure_name_free_upstream(bot.name, bot.server)
    except HummingbotError as exc:
        record(action="create", ok=False, user=user, account=account, detail=f"{name}: {exc.message}")
        raise
    try:
        with transaction.atomic():
            _self_trade_guard(bot)
            bot.save()
    except IntegrityError:
        raise ValidationError({"name": f"A bot named '{name}' already exists."}) from None
    try:
        _deploy(bot, setup.params)
    except HummingbotError as exc:
        _record_failure(bot, exc, status=Status.ERROR, action="create", user=user)
        raise
    except Exception as exc:  # a bug must not leave the row `deploying` forever
        fail(bot, f"create failed: {type(exc).__name__}: {exc}", status=Status.ERROR, action="create", user=user)
        raise
    record(action="create", ok=True, user=user, bot=bot,
           detail=f"deployed as {_deployed(bot)}{pretrade.confirmed_text(confirmed, user)}")
    return bot


def _validated_new_bot(*, name, account, strategy, connector, trading_pair, params) -> tuple[Bot, strategies.BotSetup]:
    """The unsaved row and the typed setup it was made from: parameters are parsed here, once."""
    if strategy not in strategies.STRATEGIES:
        raise ValidationError({"strategy": f"Unknown strategy '{strategy}': use one of {', '.join(strategies.STRATEGIES)}."})
    try:
        setup = strategies.parse_bot(strategy=strategy, connector=connector, trading_pair=trading_pair, params=params)
    except strategies.ParamsError as exc:
        raise ValidationError({field: [message] for field, message in exc.errors.items()}) from None
    # Canonical connector and pair: venue, chain and the self-trade guard compare these (any letter case in).
    bot = Bot(
        name=name, account=account, strategy=strategy, connector=setup.connector, trading_pair=setup.trading_pair,
        params=setup.params.to_json(), status=Status.DEPLOYING,
        controller_sha256=strategies.volume_taker().sha256 if strategy == Bot.Strategy.VOLUME else "",
    )
    bot.full_clean(exclude=["status"])
    return bot, setup


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
        status__in=ACTIVE,
    ).exclude(pk=bot.pk)
    found = clash.first()
    if found is not None:
        raise ValidationError(
            {"strategy": f"Bot '{found.name}' already runs {other} on {bot.account} {bot.connector} {bot.trading_pair}: "
             f"a {bot.strategy} bot there would trade against it. Stop it first."}
        )


def _ensure_name_free_upstream(name: str, server) -> None:
    """Hummingbot may run bots this panel did not create; a second one of that name would confuse both."""
    ours = set(Bot.objects.exclude(hummingbot_name=None).values_list("hummingbot_name", flat=True))
    theirs = {DEPLOY_SUFFIX.sub("", hb_name) for hb_name in get_client(server).bots_status() if hb_name not in ours}
    if name in theirs:
        raise ValidationError(
            {"name": f"Hummingbot already runs a bot named '{name}' that this panel did not create; choose another name."}
        )


def _deploy(bot: Bot, params: strategies.Params) -> None:
    """Save the controller config, let Hummingbot validate it, deploy; store the name it returns.

    A volume bot runs the version of our controller it was deployed with (a bot deployed before versions were
    recorded: this release's), read back from Hummingbot first (docs/design.md §11).
    """
    client = get_client(bot.server)
    if bot.strategy == Bot.Strategy.VOLUME:
        bot.controller_sha256 = bot.controller_sha256 or strategies.volume_taker().sha256
        controllers.ensure_volume_taker(client, bot.controller_sha256)
    controller_type, controller_name = strategies.controller_ref(bot.strategy, bot.controller_sha256)
    config = strategies.controller_config(bot.config_name, bot.connector, bot.trading_pair, params,
                                          bot.controller_sha256)
    client.save_controller_config(bot.config_name, config)
    client.validate_controller_config(controller_type, controller_name, config)
    # The intent is committed before the call: a timeout or a killed process leaves it for sync and start.
    bot.deploy_intent_at = timezone.now()
    Bot.objects.filter(pk=bot.pk).update(deploy_intent_at=bot.deploy_intent_at, controller_sha256=bot.controller_sha256)
    try:
        deployment = client.deploy_controllers(
            instance_name=bot.name,
            credentials_profile=bot.account.name,
            controllers=[bot.config_name],
            image=settings.HUMMINGBOT_IMAGE,
            **strategies.deploy_limits(params),
        )
    except HummingbotError as exc:
        if not exc.outcome_unknown:  # Hummingbot answered: nothing was deployed
            bot.deploy_intent_at = None
            Bot.objects.filter(pk=bot.pk).update(deploy_intent_at=None)
        raise
    if not _attach(bot, deployment.unique_instance_name):
        bot.refresh_from_db()  # a sync saw the instance first and reattached it


def _deployed(bot: Bot) -> str:
    """Its instance and the controller it runs, for the event: a volume bot's version matters (docs/design.md §11)."""
    return f"{bot.hummingbot_name} running {bot.controller}"


def _attach(bot: Bot, hummingbot_name: str) -> bool:
    return transition(
        bot, allowed=[bot.status], to=Status.STARTING, hummingbot_name=hummingbot_name, deploy_intent_at=None,
        last_error="", absent_since=None,
    )


def _record_failure(bot: Bot, exc: HummingbotError, *, status: str, action: str, user) -> None:
    """A deploy whose answer never came may have happened: the row keeps its pending state and says so
    until sync or start finds the instance (or, after the grace period, that there is none)."""
    if not (exc.outcome_unknown and bot.deploy_intent_at is not None):
        fail(bot, exc.message, status=status, action=action, user=user)
        return
    bot.last_error = f"{OUTCOME_UNKNOWN} ({exc.message})"
    Bot.objects.filter(pk=bot.pk).update(last_error=bot.last_error)
    record(action=action, ok=False, user=user, bot=bot, detail=bot.last_error)


def deployed_instance(bot: Bot, names) -> str | None:
    """The instance an unanswered deploy of `bot` created, among upstream `names`: "<name>-YYYYmmdd-HHMMSS"
    read in HUMMINGBOT_TIME_ZONE and stamped no earlier than the intent (less CLOCK_SKEW)."""
    pattern = re.compile(re.escape(bot.name) + r"-(\d{8}-\d{6})")
    zone = ZoneInfo(settings.HUMMINGBOT_TIME_ZONE)
    stamped = []
    for name in names:
        match = pattern.fullmatch(name)
        try:
            at = datetime.strptime(match[1], "%Y%m%d-%H%M%S").replace(tzinfo=zone) if match else None
        except ValueError:  # digits that are no date
            continue
        if at is not None and at >= bot.deploy_intent_at - CLOCK_SKEW:
            stamped.append((at, name))
    return min(stamped)[1] if stamped else None


def reattach(bot: Bot, hummingbot_name: str, *, user=None) -> bool:
    """Give the row the instance its unanswered deploy created, instead of deploying again or adopting it."""
    attached = _attach(bot, hummingbot_name)
    if attached:
        record(action="reattach", ok=True, user=user, bot=bot,
               detail=f"the deploy whose answer was lost created {hummingbot_name}: reattached")
    return attached


def _find_unanswered_deploy(client, bot: Bot) -> tuple[str | None, bool]:
    """(instance, is it active) for a row with a deploy intent: the status list, then exited containers."""
    active = list(client.bots_status())
    names = active + [c.name for c in client.exited_containers(name_filter=bot.name)]
    taken = set(Bot.objects.filter(hummingbot_name__in=names).values_list("hummingbot_name", flat=True))
    found = deployed_instance(bot, [name for name in names if name not in taken])
    return found, found in active


def bot_start(*, bot: Bot, user=None) -> Bot:
    """Restart the bot's container (MQTT start is broken on Hummingbot >= 2.13), or redeploy it when gone."""
    if bot.strategy == Bot.Strategy.EXTERNAL:
        raise StateConflict(
            f"Bot '{bot.name}' was adopted from Hummingbot, not created here: the panel has no config to start "
            "or redeploy it with. Start it where it was created."
        )
    params = stored_params(bot)
    _refused_restart(bot, params)
    return _pending_call(
        bot, user=user, action="start", allowed=STARTABLE, pending=Status.STARTING,
        refusal="only a stopped bot can be started.", call=lambda: _start_upstream(bot, params),
        guard=_self_trade_guard, last_error="",
    )


def _refused_restart(bot: Bot, params: strategies.Params) -> None:
    """A start resumes trading with the row's parameters (or redeploys them): what no confirmation lets through
    (desk limits lowered since, keys removed, account lost, pair delisted, a minimum raised) refuses it too. Its
    warnings were confirmed at create and nobody is asked at a start (bulk action, API): they do not block it."""
    setup = strategies.BotSetup(strategy=bot.strategy, connector=bot.connector, trading_pair=bot.trading_pair,
                                params=params)
    refusals = pretrade.new_bot_assessment(account=bot.account, setup=setup, exclude=bot).refusals
    if refusals:
        raise StateConflict(f"Bot '{bot.name}' cannot start: " + " ".join(r.message for r in refusals))


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
        moved = transition(bot, allowed=allowed, to=pending, **fields)
    if not moved:
        raise StateConflict(f"Bot '{bot.name}' is {bot.status}; {refusal}")
    try:
        detail = call() or detail
    except HummingbotError as exc:
        _record_failure(bot, exc, status=previous, action=action, user=user)
        raise
    record(action=action, ok=True, user=user, bot=bot, detail=detail)
    return bot


def _start_upstream(bot: Bot, params: strategies.Params | None) -> str:
    client = get_client(bot.server)
    if bot.deploy_intent_at is not None:  # never deploy twice: the last deploy may have happened
        found, active = _find_unanswered_deploy(client, bot)
        if found is not None:
            reattach(bot, found)
            if active:
                return f"reattached to {found}, which Hummingbot runs; not deployed again"
    name = bot.hummingbot_name
    if name and _is_active_upstream(client, name):
        # Read its fills first: a restart is where a lost fill would hurt. Failures stay on the row.
        trades_sync(bot_names=[bot.name])
        # The container boots with its script config and starts the strategy (docs/hummingbot-api.md §10).
        client.stop_container(name)
        client.start_container(name)
        return f"restarted container {name}"
    if name and any(c.name == name for c in client.exited_containers(name_filter=name)):
        client.start_container(name)
        return f"started container {name}"
    _deploy(bot, params)
    return f"redeployed as {_deployed(bot)}"


def _is_active_upstream(client, name: str) -> bool:
    try:
        client.bot_status(name)
    except HummingbotNotFound:
        return False
    return True


def bot_stop(*, bot: Bot, user=None, kill_switch: bool = False) -> Bot:
    """Fire-and-forget stop with order cancellation; `stopping` until the status call confirms it.

    The kill switch stops a bot in any state in which it may still trade, not only the ones a button offers.
    """
    client = get_client(bot.server)
    return _pending_call(
        bot, user=user, action="stop", allowed=MAY_TRADE if kill_switch else STOPPABLE, pending=Status.STOPPING,
        refusal="only a running bot can be stopped.", call=lambda: client.stop_bot(bot.hummingbot_name),
        detail="kill switch: stop sent, orders cancelled" if kill_switch else "stop sent, orders cancelled",
    )


def bot_archive(*, bot: Bot, user=None) -> Bot:
    """Stop and archive upstream (orders cancelled); the row and its trades are kept as `archived`."""
    if not is_archivable(bot, now=timezone.now()):
        raise StateConflict(f"Bot '{bot.name}' is {bot.status}; it cannot be archived now.")
    archivable = (*ARCHIVABLE, Status.DEPLOYING)  # checked above: a deploying row only past its grace
    if not bot.hummingbot_name and bot.deploy_intent_at is not None:  # never leave its instance unmanaged
        found, _ = _find_unanswered_deploy(get_client(bot.server), bot)
        if found is not None:
            reattach(bot, found, user=user)
    if not bot.hummingbot_name:
        # Never deployed (a failed create): nothing exists upstream to archive.
        return _pending_call(
            bot, user=user, action="archive", allowed=archivable, pending=Status.ARCHIVED, refusal="it cannot be archived.",
            call=lambda: None, detail="never deployed; archived here only",
        )
    client = get_client(bot.server)
    return _pending_call(
        bot, user=user, action="archive", allowed=archivable, pending=Status.ARCHIVING,
        refusal="it cannot be archived now.", absent_since=None,
        call=lambda: client.stop_and_archive_bot(bot.hummingbot_name), detail="stop-and-archive started",
    )

