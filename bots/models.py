from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxLengthValidator, MinValueValidator
from django.db import models
from django.db.models import Value
from django.db.models.functions import Replace, Upper

from bots import strategies
from bots.validators import (
    ACCOUNT_NAME_MAX_LENGTH,
    BOT_NAME_MAX_LENGTH,
    validate_name,
    validate_trading_pair,
    validate_unreserved_bot_name,
)

MONEY = {"max_digits": 38, "decimal_places": 18}
DESK_LIMITS = ("max_bot_budget", "max_live_budget", "max_order_notional")
DEFAULT_SERVER = "default"


def password_variable(server_name: str) -> str:
    """The environment variable holding a server's password: derived from its name, never chosen, so no entry can
    make the bridge send another variable's value (SECRET_KEY, DATABASE_URL, another server's password) to its URL
    (issue 15, docs/design.md §10). The default server keeps HUMMINGBOT_API_PASSWORD."""
    if server_name == DEFAULT_SERVER:
        return "HUMMINGBOT_API_PASSWORD"
    return f"HUMMINGBOT_SERVER_{password_key(server_name)}_PASSWORD"


def password_key(server_name: str) -> str:
    """What a name contributes to its variable; SERVER_PASSWORD_KEY is the same in SQL."""
    return server_name.upper().replace("-", "_")


SERVER_PASSWORD_KEY = Upper(Replace("name", Value("-"), Value("_")))


class HummingbotServer(models.Model):
    """One Hummingbot API the bridge drives. The password is never stored: it is read from the environment variable
    its name gives (`password_variable`). A blank URL is the zero-configuration server: URL, username and password
    come from HUMMINGBOT_API_URL/USERNAME/PASSWORD, so changing the environment keeps working (docs/design.md §10).
    Rows are written by bots/services/servers.py only (superusers, audited)."""

    name = models.CharField(
        max_length=64, unique=True, validators=[validate_name],
        help_text="Short name shown in the panel and the API, e.g. eu-1. Letters, digits, '_' and '-'. It names the "
                  "environment variable its password is read from: HUMMINGBOT_SERVER_EU_1_PASSWORD for eu-1.",
    )
    url = models.URLField(blank=True, help_text="Blank: HUMMINGBOT_API_URL (the default server).")
    username = models.CharField(max_length=150, blank=True, help_text="Blank: HUMMINGBOT_API_USERNAME.")

    class Meta:
        ordering = ["name"]
        constraints = [
            # Two names giving one password variable would share a password.
            models.UniqueConstraint(
                SERVER_PASSWORD_KEY, name="one_password_variable_per_server",
                violation_error_message="Another server's name gives the same password variable.",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def password_variable(self) -> str:
        return password_variable(self.name)

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
    # Desk limits, in the quote asset of each bot's pair (USDT for SHARP-USDT); blank = no limit. Changed only by
    # users with bots.change_desk_limits, through services.account_set_desk_limits (audited); the pre-trade checks
    # refuse what goes over them (bots/services/pretrade.py).
    max_bot_budget = models.DecimalField(
        "max budget per bot", **MONEY, null=True, blank=True, validators=[MinValueValidator(Decimal(0))],
        help_text="Largest budget one bot may have.")
    max_live_budget = models.DecimalField(
        "max budget of live bots", **MONEY, null=True, blank=True, validators=[MinValueValidator(Decimal(0))],
        help_text="Largest total budget of the account's live bots quoted in the same asset.")
    max_order_notional = models.DecimalField(
        "max order value", **MONEY, null=True, blank=True, validators=[MinValueValidator(Decimal(0))],
        help_text="Largest value of one order at the current price.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        permissions = [("change_desk_limits", "Can change the desk limits of an account")]

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
    # Hummingbot's reported performance as of its newest PerformanceSample, kept on the row by the status sync so
    # the bot list and GET /bots show it without reading the samples (docs/design.md §14). perf_read_at: the last
    # status read that carried figures (they may be unchanged since the newest sample).
    perf_realized_pnl_quote = models.DecimalField(**MONEY, null=True, blank=True, editable=False)
    perf_unrealized_pnl_quote = models.DecimalField(**MONEY, null=True, blank=True, editable=False)
    perf_net_pnl_quote = models.DecimalField(**MONEY, null=True, blank=True, editable=False)
    perf_volume_quote = models.DecimalField(**MONEY, null=True, blank=True, editable=False)
    perf_read_at = models.DateTimeField(null=True, blank=True, editable=False)
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


class ExactSumField(models.DecimalField):
    """A sum kept in a daily rollup. PostgreSQL: numeric, as the ledger's amounts. SQLite: text, because its NUMERIC
    is a float of 15 significant digits, and a sum kept by adding each batch would drift from the same sum taken at
    once; bots/rollups.py adds with Python's decimal there (docs/design.md §12)."""

    def get_internal_type(self):
        return "ExactSumField"  # not DecimalField: SQLite's converter for that reads floats only

    def db_type(self, connection):
        if connection.vendor == "sqlite":
            return "text"
        return connection.data_types["DecimalField"] % self.db_type_parameters(connection)

    def from_db_value(self, value, expression, connection):
        return value if value is None or isinstance(value, Decimal) else Decimal(value)


class DailyRollup(models.Model):
    """One bot's fills of one UTC day in one pair, summed: written in the transaction that stores those fills, from
    the rows really inserted (bots/rollups.py), so the overview, the account pages and the totals read these rows
    instead of the ledger; `manage.py rebuild_rollups` makes them again from the ledger (docs/design.md §12)."""

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="rollups", db_index=False)
    day = models.DateField(help_text="The UTC day of the fills.")
    trading_pair = models.CharField(max_length=129)
    fills = models.PositiveIntegerField()
    bought_base = ExactSumField(**MONEY)
    bought_quote = ExactSumField(**MONEY, help_text="Price x amount of the buys, each rounded to 18 places.")
    sold_base = ExactSumField(**MONEY)
    sold_quote = ExactSumField(**MONEY, help_text="Price x amount of the sells, each rounded to 18 places.")
    fees_quote = ExactSumField(**MONEY, help_text="Fees in the quote asset; a fill whose fee is unknown adds nothing.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bot", "day", "trading_pair"], name="unique_rollup_per_bot_day")]
        indexes = [models.Index(fields=["day"], name="rollup_day")]  # the fleet's window

    def __str__(self):
        return f"{self.bot_id}:{self.day}:{self.trading_pair}"


class PerformanceSample(models.Model):
    """Hummingbot's reported performance of one bot at one status read, summed over its controllers, written by the
    status sync when the figures changed and thinned with age (services/performance.py). The bot page's charts are
    drawn from these, so their last point is the page's cards; the trade ledger stays the record of fills."""

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="performance_samples", db_index=False)
    read_at = models.DateTimeField()
    realized_pnl_quote = models.DecimalField(**MONEY)
    unrealized_pnl_quote = models.DecimalField(**MONEY)
    net_pnl_quote = models.DecimalField(**MONEY)
    volume_quote = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["bot", "read_at"]
        constraints = [models.UniqueConstraint(fields=["bot", "read_at"], name="unique_sample_per_bot_and_read")]
        indexes = [models.Index(fields=["read_at"], name="sample_read_at")]  # the thinning's window, every bot

    def __str__(self):
        return f"{self.bot_id}@{self.read_at:%Y-%m-%d %H:%M:%S}"


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


class Alert(models.Model):
    """Something a person should know now, found by a sync (bots/services/alerts.py): one open row per (rule,
    subject), opened, notified, re-notified while nobody acknowledged it, acknowledged by a named user, resolved
    when its condition clears. `notice_due` is the notification the delivery task still has to send; the
    channels (ALERT_URLS) are never stored: `pending_channels` holds the keys of those a partly failed notice
    still has to reach (empty: all of them)."""

    class Rule(models.TextChoices):
        BOT_DOWN = "bot_down", "Bot in error or not found"
        STOPPED_UNASKED = "stopped_unasked", "Bot stopped without a request here"
        DEPLOY_UNKNOWN = "deploy_unknown", "Deploy outcome unknown"
        SERVER_DOWN = "server_down", "Hummingbot server unreachable"
        NO_FILL = "no_fill", "No fill"
        LOSS = "loss", "Net PnL near the max loss"
        LOW_BALANCE = "low_balance", "Balance below the live bots' budgets"
        KILL_SWITCH = "kill_switch", "Kill switch left bots unconfirmed"

    class Severity(models.TextChoices):
        WARNING = "warning"
        CRITICAL = "critical"

    class Notice(models.TextChoices):
        NONE = "", "nothing"
        OPENED = "opened"
        REMINDER = "reminder"
        RESOLVED = "resolved"

    rule = models.CharField(max_length=16, choices=Rule.choices)
    subject = models.CharField(max_length=200, help_text="What the alert is about, e.g. 'bot sharp_mm', 'server eu-1'.")
    severity = models.CharField(max_length=8, choices=Severity.choices)
    message = models.TextField(help_text="What the notification says.")
    details = models.JSONField(default=dict, blank=True, help_text="The figures the rule found.")
    bot = models.ForeignKey(Bot, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts")
    server = models.ForeignKey(HummingbotServer, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts")
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts")
    opened_at = models.DateTimeField()
    notified_at = models.DateTimeField(null=True, blank=True, help_text="When a notification last reached every channel.")
    notifications = models.PositiveIntegerField(default=0)
    notice_due = models.CharField(max_length=8, choices=Notice.choices, blank=True, default=Notice.NONE)
    pending_channels = models.JSONField(default=list, blank=True)
    delivery_error = models.TextField(blank=True, help_text="The last channel failure (empty once a notice got through).")
    delivery_failed_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    acknowledged_by_name = models.CharField(max_length=150, blank=True, help_text="Kept if the user is deleted.")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=500, blank=True, help_text="Why the condition cleared.")

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["rule", "subject"], condition=models.Q(resolved_at__isnull=True),
                                               name="one_open_alert_per_rule_and_subject")]

    def __str__(self):
        return f"{self.get_rule_display()}: {self.subject}"

    @property
    def state(self) -> str:
        if self.resolved_at is not None:
            return "resolved"
        return "acknowledged" if self.acknowledged_at is not None else "open"


class BotListVersion(models.Model):
    """The version of what GET /bots shows: one row to which the database itself gives a new random value on every
    write to a table the list reads (triggers, bots/list_version.py), in the writing transaction. The list's ETag is
    that value, so an unchanged list answers 304 without building its rows, and no write path can forget to say that
    it changed."""

    value = models.BigIntegerField(default=0)

    def __str__(self):
        return str(self.value)


class DailyReport(models.Model):
    """The daily desk report of one UTC day (bots/services/report.py): the row claims the day, so a task run twice
    sends once; a channel that failed is recorded here (and fails the task run), never silently."""

    day = models.DateField(unique=True, help_text="The UTC day the report is about (yesterday when it was sent).")
    sent_at = models.DateTimeField(help_text="When the task claimed the day and sent the report.")
    channels = models.PositiveIntegerField(default=0, help_text="Alert channels it was sent to.")
    delivery_error = models.TextField(blank=True, help_text="The channels that did not take it, and why.")

    class Meta:
        ordering = ["-day"]

    def __str__(self):
        return f"daily report {self.day}"
