"""Create, start, stop, archive and the kill switch (docs/hummingbot-api.md §2, §10).

Pending states are set with a conditional update before the upstream call, so two clicks make one
call; on failure the row goes back to a truthful state and a BotEvent says what happened.
"""
from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from bots import strategies
from bots.hummingbot.client import get_client
from bots.hummingbot.errors import HummingbotError, HummingbotNotFound
from bots.models import Account, Bot
from bots.services.common import StateConflict, fail, record, transition
from bots.services.trades import trades_sync
from bots.states import ACTIVE, STARTABLE, STOPPABLE

Status = Bot.Status
# Hummingbot names a deployed bot "<instance_name>-YYYYmmdd-HHMMSS" (docs/hummingbot-api.md §2).
DEPLOY_SUFFIX = re.compile(r"-\d{8}-\d{6}\Z")


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
        record(action="create", ok=False, user=user, account=account, detail=f"{name}: {exc.message}")
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
        fail(bot, exc, status=Status.ERROR, action="create", user=user)
        raise
    record(action="create", ok=True, user=user, bot=bot, detail=f"deployed as {bot.hummingbot_name}")
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
        status__in=ACTIVE,
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
    transition(
        bot, allowed=[bot.status], to=Status.STARTING, hummingbot_name=deployment.unique_instance_name,
        last_error="", missed_syncs=0,
    )


def _ensure_volume_controller_uploaded(client, controller_type: str, controller_name: str) -> None:
    if controller_name not in client.list_controllers().get(controller_type, []):
        client.upload_controller(controller_type, controller_name, strategies.volume_taker_source())


def bot_start(*, bot: Bot, user=None) -> Bot:
    """Restart the bot's container (MQTT start is broken on Hummingbot >= 2.13), or redeploy it when gone."""
    if bot.strategy == Bot.Strategy.EXTERNAL:
        raise StateConflict(
            f"Bot '{bot.name}' was adopted from Hummingbot, not created here: the panel has no config to start "
            "or redeploy it with. Start it where it was created."
        )
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
        moved = transition(bot, allowed=allowed, to=pending, **fields)
    if not moved:
        raise StateConflict(f"Bot '{bot.name}' is {bot.status}; {refusal}")
    try:
        detail = call() or detail
    except HummingbotError as exc:
        fail(bot, exc, status=previous, action=action, user=user)
        raise
    record(action=action, ok=True, user=user, bot=bot, detail=detail)
    return bot


def _start_upstream(bot: Bot) -> str:
    client = get_client()
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
    record(
        action="stop_all", ok=not result["failed"], user=user, account=account,
        detail=f"stopped {len(result['stopped'])}, failed {len(result['failed'])}",
    )
    return result
