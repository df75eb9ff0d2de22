from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxLengthValidator, MinValueValidator
from django.db import models

from bots import strategies
from bots.validators import (
    ACCOUNT_NAME_MAX_LENGTH,
    BOT_NAME_MAX_LENGTH,
    validate_env_name,
    validate_name,
    validate_trading_pair,
    validate_unreserved_bot_name,
)

MONEY = {"max_digits": 38, "decimal_places": 18}
DEFAULT_SERVER = "default"


class HummingbotServer(models.Model):
    """One Hummingbot API the bridge drives. The password is never stored: `password_env` names the environment
    variable that holds it. A blank URL is the zero-configuration server: URL, username and password come from
    HUMMINGBOT_API_URL/USERNAME/PASSWORD, so changing the environment keeps working (docs/design.md §10)."""

    name = models.CharField(
        max_length=64, unique=True, validators=[validate_name],
        help_text="Short name shown in the panel and the API, e.g. eu-1. Letters, digits, '_' and '-'.",
    )
    url = models.URLField(blank=True, help_text="Blank: HUMMINGBOT_API_URL (the default server).")
    username = models.CharField(max_length=150, blank=True, help_text="Blank: HUMMINGBOT_API_USERNAME.")
    password_env = models.CharField(
        max_length=64, default="HUMMINGBOT_API_PASSWORD", validators=[validate_env_name],
        help_text="Name of the environment variable holding the password (the value is never stored).",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @classmethod
    def default(cls) -> "HummingbotServer":
        """The zero-configuration server (created by migration 0009; again on first need after a flush)."""
        return cls.objects.get_or_create(name=DEFAULT_SERVER)[0]

    @classmethod
    def every(cls) -> list["HummingbotServer"]:
        """Every server; never none: with no rows (a fresh or flushed database) the zero-configuration one."""
        return list(cls.objects.all()) or [cls.default()]


def default_server_id() -> int:
    """Accounts and bots made without a server belong to the default one."""
    return HummingbotServer.default().pk


class Account(models.Model):
    """A client account; its name is the Hummingbot account / credentials profile."""

    name = models.CharField(
        max_length=ACCOUNT_NAME_MAX_LENGTH,
        unique=True,
        validators=[validate_name, MaxLengthValidator(ACCOUNT_NAME_MAX_LENGTH)],
        help_text="Hummingbot account name, e.g. client_sharp. Letters, digits, '_' and '-'.",
    )
    label = models.CharField(max_length=200, blank=True)
    # Fixed once created: the account, its keys and its bots live in that Hummingbot.
    server = models.ForeignKey(HummingbotServer, default=default_server_id, on_delete=models.PROTECT,
                               related_name="accounts")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Bot(models.Model):
    class Strategy(models.TextChoices):
        SPREAD = "spread", "Spread (market making)"
        VOLUME = "volume", "Volume (taker legs)"
        EXTERNAL = "external", "External (adopted from Hummingbot)"

    class Status(models.TextChoices):
        DEPLOYING = "deploying"
        STARTING = "starting"
        RUNNING = "running"
        IDLE = "idle"
        STOPPING = "stopping"
        STOPPED = "stopped"
        ERROR = "error"
        ARCHIVING = "archiving"
        ARCHIVED = "archived"
        NOT_FOUND = "not_found"

    name = models.CharField(
        max_length=BOT_NAME_MAX_LENGTH,
        unique=True,
        validators=[validate_name, validate_unreserved_bot_name, MaxLengthValidator(BOT_NAME_MAX_LENGTH)],
        help_text=f"Stable id, at most {BOT_NAME_MAX_LENGTH} characters: letters, digits, '_' and '-'.",
    )
    hummingbot_name = models.CharField(
        max_length=100, unique=True, null=True, blank=True, help_text="Instance name Hummingbot returned."
    )
    # Null only for bots adopted from Hummingbot, whose status payload does not name the account.
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.PROTECT, related_name="bots")
    # The Hummingbot that runs it: its account's server, or for an adopted bot the server that reported it.
    server = models.ForeignKey(HummingbotServer, default=default_server_id, on_delete=models.PROTECT,
                               related_name="bots")
    strategy = models.CharField(max_length=16, choices=Strategy.choices)
    connector = models.CharField(max_length=64, blank=True, validators=[validate_name])
    trading_pair = models.CharField(max_length=129, blank=True, validators=[validate_trading_pair])
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DEPLOYING, db_index=True)
    last_error = models.TextField(blank=True)
    upstream_status = models.JSONField(null=True, blank=True)
    status_synced_at = models.DateTimeField(null=True, blank=True)
    trades_synced_at = models.DateTimeField(null=True, blank=True)
    trades_sync_error = models.TextField(blank=True)
    # Since when Hummingbot's status list has not shown the bot (None: shown at the last sync). The list
    # blinks, so absence is judged over time (VANISHED_AFTER_SECONDS), docs/hummingbot-api.md §2, §10.
    absent_since = models.DateTimeField(null=True, blank=True)
    # When a deploy was sent whose answer is not stored (timeout, dropped connection, killed process): an
    # instance "<name>-YYYYmmdd-HHMMSS" may exist upstream; sync and start reattach it, never deploy twice.
    deploy_intent_at = models.DateTimeField(null=True, blank=True)
    # The version of our reviewed controller its config names (volume_taker_<first 8>), kept when it is deployed
    # again; blank for stock controllers and for bots deployed before versions were recorded (docs/design.md §11).
    controller_sha256 = models.CharField(
        max_length=64, blank=True, editable=False,
        help_text="sha256 of the reviewed controller file this bot runs (its config names volume_taker_<first 8>).",
    )
    # When the live parameter change now waiting on Hummingbot was claimed (None: none is): one change at a time
    # reaches Hummingbot, without a write transaction held across its calls (services/params.py).
    params_change_claimed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def chain(self):
        return strategies.chain_for(self.connector)

    @property
    def venue(self):
        return strategies.venue_for(self.connector)

    @property
    def network(self):
        return strategies.network_for(self.connector)

    @property
    def controller(self) -> str:
        """type/module its controller config names (docs/design.md §11); unknown for an adopted bot."""
        if self.strategy not in strategies.STRATEGIES:
            return ""
        if self.strategy == self.Strategy.VOLUME and not self.controller_sha256:
            return "/".join(strategies.STRATEGIES[self.strategy].controller)  # deployed before versioning
        return "/".join(strategies.controller_ref(self.strategy, self.controller_sha256))

    @property
    def config_name(self):
        """Name of the controller config saved in Hummingbot (same charset as the bot name)."""
        return self.name


class Trade(models.Model):
    class Side(models.TextChoices):
        BUY = "buy"
        SELL = "sell"

    # No index of its own: the unique (bot, trade_id) and (bot, -timestamp) indexes both lead with it.
    bot = models.ForeignKey(Bot, on_delete=models.PROTECT, related_name="trades", db_index=False)
    trade_id = models.CharField(max_length=128)
    timestamp = models.DateTimeField()
    trading_pair = models.CharField(max_length=129, validators=[validate_trading_pair])
    side = models.CharField(max_length=4, choices=Side.choices)
    price = models.DecimalField(**MONEY, validators=[MinValueValidator(Decimal(0))])
    amount = models.DecimalField(**MONEY, validators=[MinValueValidator(Decimal(0))])
    fee_quote = models.DecimalField(**MONEY, null=True, blank=True, validators=[MinValueValidator(Decimal(0))])
    raw = models.JSONField(default=dict, blank=True, help_text="The fill as Hummingbot sent it, its fee included.")
    ingested_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-timestamp", "-id"]
        constraints = [models.UniqueConstraint(fields=["bot", "trade_id"], name="unique_trade_per_bot")]
        indexes = [
            models.Index(fields=["bot", "-timestamp"], name="trade_bot_newest_first"),
            models.Index(fields=["timestamp", "id"], name="trade_timestamp_id"),  # the ledger's order, the admin's pages
        ]

    def __str__(self):
        return f"{self.bot_id}:{self.trade_id}"


class BotEvent(models.Model):
    """Audit trail: who did what to which bot, and whether it worked. Written by services only."""

    bot = models.ForeignKey(Bot, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    actor = models.CharField(max_length=150, help_text="Username, or 'system' for scheduled work.")
    action = models.CharField(max_length=32)
    ok = models.BooleanField()
    detail = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor} {self.action} {'ok' if self.ok else 'failed'}"


class KillSwitchRun(models.Model):
    """One press of the kill switch: who, which scope, and per bot whether the stop was sent and confirmed.

    `results` is `{bot name: {"sent": bool|None, "error": str, "confirmed": bool|None, "status": str}}`:
    `sent` None = not reached yet; `confirmed` None = the confirming status read did not list the bot.
    Written by services.killswitch only, one update per bot, so the admin can show progress.
    """

    class State(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.CharField(max_length=150, help_text="Who pressed the kill switch (kept if the user is deleted).")
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                help_text="Empty: every bot of every account.")
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    results = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, help_text="Why the run did not finish, or why nothing could be confirmed.")
    task_id = models.CharField(max_length=32, blank=True, help_text="The django-q2 task that runs it.")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Kill switch #{self.pk} ({self.account or 'all accounts'})"

    @property
    def total(self) -> int:
        return len(self.results)

    @property
    def sent(self) -> int:
        return sum(1 for r in self.results.values() if r["sent"])

    @property
    def confirmed(self) -> int:
        return sum(1 for r in self.results.values() if r["confirmed"])


class SyncState(models.Model):
    """When Hummingbot's statuses were last fetched, and how that went: one row per scope, in the database so
    every web worker and the task worker see the same answer. The scope is the Hummingbot server's name."""

    scope = models.CharField(max_length=64, unique=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True, help_text="Failed attempts count too: no hammering.")
    last_ok_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, help_text="Empty when the last attempt worked.")
    last_error_code = models.CharField(max_length=32, blank=True)

    def __str__(self):
        return self.scope


class ThrottleCount(models.Model):
    """Requests of one caller in the current fixed window of one API throttle (bots/api/throttles.py): a row
    per caller and scope, in the database every web worker shares, counted by one INSERT ... ON CONFLICT."""

    key = models.CharField(max_length=255, primary_key=True)
    window_ends_at = models.FloatField(help_text="Epoch seconds; a request after it opens a new window.")
    count = models.PositiveIntegerField()

    def __str__(self):
        return self.key


class BotListVersion(models.Model):
    """The version of what GET /bots shows: one row to which the database itself gives a new random value on every
    write to a table the list reads (triggers, bots/list_version.py), in the writing transaction. The list's ETag is
    that value, so an unchanged list answers 304 without building its rows, and no write path can forget to say that
    it changed."""

    value = models.BigIntegerField(default=0)

    def __str__(self):
        return str(self.value)
