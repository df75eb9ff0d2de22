from collections.abc import Mapping
from datetime import timedelta

from django.db import models
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from bots import selectors, strategies
from bots.models import MONEY, Account, Alert, Bot, BotEvent, HummingbotServer, Trade
from bots.money import plain_decimal
from bots.validators import (
    ACCOUNT_NAME_MAX_LENGTH,
    BOT_NAME_MAX_LENGTH,
    LONGEST_PERIOD_DAYS,
    validate_name,
    validate_period,
    validate_unreserved_bot_name,
)

# What plain_decimal writes: digits, at most one point, no trailing zero after it, no exponent (the Decimal(38, 18)
# columns: up to 20 digits before the point, 18 after).
PLAIN_DECIMAL_PATTERN = r"^-?(0|[1-9]\d{0,19})(\.\d{0,17}[1-9])?$"


@extend_schema_field({"type": "string", "format": "decimal", "pattern": PLAIN_DECIMAL_PATTERN, "example": "3019.2"})
class PlainDecimalField(serializers.DecimalField):
    """Money as the API writes it, the CSV and the panel alike (bots/money.py): `"3019.2"`, where DRF's own field
    pads to the column's 18 places, `"3019.200000000000000000"`."""

    def __init__(self, **kwargs):
        super().__init__(**{**MONEY, **kwargs})

    def to_representation(self, value):
        return plain_decimal(value)


class StrictKeysMixin:
    """Refuses keys it does not know, naming them, and non-strings for text fields (DRF would turn 5 into "5"):
    a typo or a stray field is never silently dropped or coerced."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            writable = {name: field for name, field in self.fields.items() if not field.read_only}
            takes = f"Unknown field; this body takes {', '.join(writable)}."
            errors = {key: [takes] for key in sorted(set(data) - set(writable))}
            errors.update({
                name: ["Must be a string."] for name, field in writable.items()
                if isinstance(field, serializers.CharField) and data.get(name) is not None
                and not isinstance(data[name], str)
            })
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class PerformanceSerializer(serializers.Serializer):
    """Hummingbot's latest reported performance of the bot, summed over its controllers, as the status sync keeps it
    (docs/design.md §14). Its report has no fee figure: fees are the ledger's (`trades.fees_quote` of one bot)."""

    net_pnl_quote = PlainDecimalField(source="perf_net_pnl_quote", help_text="Net PnL (realized + unrealized), quote.")
    volume_quote = PlainDecimalField(source="perf_volume_quote", help_text="Volume traded, quote.")
    read_at = serializers.DateTimeField(source="perf_read_at", help_text="The status read that reported these.")


_PERFORMANCE = PerformanceSerializer()  # one instance for every bot: building its fields per bot doubled a list's time


class BotSerializer(serializers.ModelSerializer):
    """The seed's keys (id, name, status, strategy, connector, pair, chain) plus what the panel adds.

    `id` is the name (unique, never changes; the integer key stays internal); `pair` is written as the
    seed writes it (BASE/QUOTE), `trading_pair` as Hummingbot does (BASE-QUOTE).
    """

    id = serializers.CharField(source="name")
    pair = serializers.SerializerMethodField()
    chain = serializers.CharField()
    venue = serializers.CharField()
    network = serializers.CharField(allow_null=True)
    account = serializers.CharField(source="account.name", allow_null=True, default=None)
    server = serializers.CharField(source="server.name", help_text="The Hummingbot server that runs it.")
    synced_at = serializers.DateTimeField(source="status_synced_at", allow_null=True)
    stale = serializers.SerializerMethodField()
    performance = serializers.SerializerMethodField()

    class Meta:
        model = Bot
        fields = [
            "id", "name", "status", "strategy", "connector", "pair", "trading_pair", "chain", "venue", "network",
            "account", "server", "hummingbot_name", "last_error", "synced_at", "trades_synced_at", "trades_sync_error", "stale",
            "params", "created_at", "performance",
        ]
        read_only_fields = fields

    def get_pair(self, bot) -> str:
        return bot.trading_pair.replace("-", "/")

    def get_stale(self, bot) -> bool:
        if bot.server.name in self.context.get("failed_servers", ()):
            return True
        return bot.status != Bot.Status.ARCHIVED and bot.status_synced_at is None

    @extend_schema_field(PerformanceSerializer(allow_null=True, help_text="null: Hummingbot has reported no figures."))
    def get_performance(self, bot) -> dict | None:
        return None if bot.perf_read_at is None else _PERFORMANCE.to_representation(bot)


class BotCreatedSerializer(BotSerializer):
    """The create answer: the bot, and warnings a person should read (adopted bots on the same market)."""

    warnings = serializers.SerializerMethodField()

    class Meta(BotSerializer.Meta):
        fields = BotSerializer.Meta.fields + ["warnings"]

    def get_warnings(self, bot) -> list[str]:
        return self.context["warnings"]


@extend_schema_field({"type": "string", "pattern": "^[A-Za-z0-9_-]+$", "maxLength": ACCOUNT_NAME_MAX_LENGTH,
                      "description": "An existing account's name."})
class AccountNameField(serializers.SlugRelatedField):
    def to_internal_value(self, data):
        """Through the selector: a name outside the charset (a NUL, say) never reaches the database."""
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            return selectors.account_get(data)
        except Account.DoesNotExist:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)


class BotCreateSerializer(StrictKeysMixin, serializers.Serializer):
    """The seed's create body verbatim: `config` holds the strategy's parameters (`params` is its synonym);
    `pair` is BASE/QUOTE or BASE-QUOTE."""

    name = serializers.CharField(
        max_length=BOT_NAME_MAX_LENGTH, validators=[validate_name, validate_unreserved_bot_name]
    )
    account = AccountNameField(slug_field="name", queryset=Account.objects.all())
    strategy = serializers.ChoiceField(choices=list(strategies.STRATEGIES))
    connector = serializers.CharField(min_length=1, max_length=64)
    pair = serializers.CharField(min_length=3, max_length=129, help_text="BASE/QUOTE or BASE-QUOTE, e.g. SHARP/USDT.")
    config = serializers.DictField(required=False)
    params = serializers.DictField(required=False, help_text="Synonym of `config`; give one of them.")
    confirm = serializers.BooleanField(
        required=False, default=False,
        help_text="Deploy despite the warnings of a 409 confirmation_required (refusals stay refused).")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].error_messages["does_not_exist"] = "Unknown account '{value}': create it first."
        self.fields["strategy"].error_messages["invalid_choice"] = (
            f"Unknown strategy \"{{input}}\": use one of {', '.join(strategies.STRATEGIES)}."
        )

    def validate_pair(self, value: str) -> str:
        return value.replace("/", "-")

    def validate(self, data):
        if "config" in data and "params" in data:
            raise serializers.ValidationError({"params": "Give the parameters once, as `config` or `params`."})
        data["params"] = data.pop("config", None) or data.get("params") or {}
        return data


class BotEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = BotEvent
        fields = ["at", "actor", "action", "ok", "detail"]


class UpstreamSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    error = serializers.CharField(required=False)
    code = serializers.CharField(required=False)
    server = serializers.CharField(required=False, help_text="The server that failed (the first, by name).")


class ServerSyncSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    synced_at = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField(required=False)
    code = serializers.CharField(required=False)


class BotListSerializer(serializers.Serializer):
    bots = BotSerializer(many=True)
    synced_at = serializers.DateTimeField(allow_null=True, help_text="Last status list Hummingbot answered.")
    age_seconds = serializers.IntegerField(allow_null=True)
    upstream = UpstreamSerializer(required=False, help_text="Present when a server's last attempt failed.")
    servers = serializers.DictField(child=ServerSyncSerializer(), help_text="Each Hummingbot server's sync, by name.")


class TradeSummarySerializer(serializers.Serializer):
    trades = serializers.IntegerField()
    bought_base = PlainDecimalField()
    sold_base = PlainDecimalField()
    bought_quote = PlainDecimalField()
    sold_quote = PlainDecimalField()
    fees_quote = PlainDecimalField()
    last_trade_at = serializers.DateTimeField(allow_null=True)


class BotDetailSerializer(BotSerializer):
    events = serializers.SerializerMethodField()
    upstream = serializers.SerializerMethodField()
    trades = serializers.SerializerMethodField()

    class Meta(BotSerializer.Meta):
        fields = BotSerializer.Meta.fields + ["trades", "events", "upstream"]

    @extend_schema_field(TradeSummarySerializer)
    def get_trades(self, bot) -> dict:
        return TradeSummarySerializer(self.context["trades"]).data

    def get_events(self, bot) -> list[dict]:
        return BotEventSerializer(self.context["events"], many=True).data

    def get_upstream(self, bot) -> dict:
        return self.context["upstream"]


class AccountSerializer(StrictKeysMixin, serializers.ModelSerializer):
    server = serializers.SlugRelatedField(
        slug_field="name", queryset=HummingbotServer.objects.all(), required=False,
        help_text="The Hummingbot server the account lives on (default: the default server).",
    )

    class Meta:
        model = Account
        fields = ["id", "name", "label", "server", "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"name": {"validators": [validate_name]}}


class CredentialsSerializer(StrictKeysMixin, serializers.Serializer):
    """Exchange keys, named as the connector's config-map names them: forwarded, never stored or echoed."""

    credentials = serializers.DictField(
        child=serializers.CharField(max_length=1024, write_only=True), allow_empty=False, write_only=True
    )

    def validate_credentials(self, value):
        bad = [key for key in value if not validate_field_name(key)]
        if bad:
            raise serializers.ValidationError(f"Unknown field names {bad}: use the connector's config-map names.")
        return value


def validate_field_name(key: str) -> bool:
    return key.isascii() and key.replace("_", "").isalnum() and key.islower() and len(key) <= 64


class TradeSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {**serializers.ModelSerializer.serializer_field_mapping,
                                models.DecimalField: PlainDecimalField}

    class Meta:
        model = Trade
        fields = ["trade_id", "timestamp", "trading_pair", "side", "price", "amount", "fee_quote"]


class TradePageSerializer(serializers.Serializer):
    """One cursor page (`TradePagination`): follow `next` for older trades."""

    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = TradeSerializer(many=True)


class TradeFilterSerializer(serializers.Serializer):
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
    side = serializers.ChoiceField(choices=Trade.Side.values, required=False)


class TradeExportFilterSerializer(TradeFilterSerializer):
    bot = serializers.CharField(required=False, validators=[validate_name])
    account = serializers.CharField(required=False, validators=[validate_name])


class BotParamsChangeSerializer(StrictKeysMixin, serializers.Serializer):
    """PATCH /bots/{id}: {"config": {parameter: new value}}; "params" is accepted as a synonym; "confirm": true
    applies it despite the warnings of a 409 confirmation_required."""

    config = serializers.DictField(required=False, help_text="Live parameters to change, in desk units "
                                                             "(the table in bots/strategies.py, column 'live').")
    params = serializers.DictField(required=False, help_text="Synonym of config.")
    confirm = serializers.BooleanField(required=False, default=False,
                                       help_text="Apply despite the warnings of a 409 confirmation_required.")

    def validate(self, data):
        confirm = data.pop("confirm")
        if len(data) != 1:
            raise serializers.ValidationError({"config": "Send the changes as exactly one of config or params."})
        return {"changes": next(iter(data.values())), "confirm": confirm}


class PerformanceQuerySerializer(serializers.Serializer):
    """UTC days, both included (totals come from daily rollups), at most LONGEST_PERIOD_DAYS: the last 7 days unless
    said."""

    since = serializers.DateField(required=False, help_text="First UTC day, YYYY-MM-DD (default: 6 days before until).")
    until = serializers.DateField(required=False, help_text=f"Last UTC day, included, YYYY-MM-DD (default: today); at "
                                                            f"most {LONGEST_PERIOD_DAYS} days from since.")

    def validate(self, data):
        until = data.get("until") or timezone.now().date()
        since = data.get("since") or until - timedelta(days=selectors.PERIOD_DAYS[selectors.DEFAULT_PERIOD] - 1)
        validate_period(since, until)
        return {"since": since, "until": until}


class QuoteSumsSerializer(serializers.Serializer):
    quote = serializers.CharField(help_text="The quote asset: amounts in different quote assets are never added.")
    fills = serializers.IntegerField()
    bought_quote = PlainDecimalField()
    sold_quote = PlainDecimalField()
    volume_quote = PlainDecimalField(help_text="bought_quote + sold_quote")
    fees_quote = PlainDecimalField(help_text="Fees in the quote asset (a fill whose fee is unknown adds nothing).")


class BotSumsSerializer(QuoteSumsSerializer):
    bot = serializers.CharField(help_text="The bot's name (its id).")
    trading_pair = serializers.CharField()
    bought_base = PlainDecimalField()
    sold_base = PlainDecimalField()


class DaySumsSerializer(QuoteSumsSerializer):
    day = serializers.DateField()


class AccountPerformanceSerializer(serializers.Serializer):
    """An account's ledger totals over UTC days since..until (both included), from the daily rollups."""

    account = serializers.CharField()
    since = serializers.DateField()
    until = serializers.DateField()
    totals = QuoteSumsSerializer(many=True, help_text="Per quote asset.")
    bots = BotSumsSerializer(many=True, help_text="Per bot and pair that had fills.")
    days = DaySumsSerializer(many=True, help_text="Per quote asset and day, every day of the period (zeros included).")


class AlertSerializer(serializers.ModelSerializer):
    """An alert as the panel lists it; `state` is open (nobody acknowledged it), acknowledged or resolved."""

    state = serializers.ChoiceField(choices=selectors.ALERT_STATES, read_only=True)
    bot = serializers.CharField(source="bot.name", allow_null=True, default=None)
    server = serializers.CharField(source="server.name", allow_null=True, default=None)
    account = serializers.CharField(source="account.name", allow_null=True, default=None)
    acknowledged_by = serializers.CharField(source="acknowledged_by_name")

    class Meta:
        model = Alert
        fields = ["id", "rule", "subject", "severity", "state", "message", "details", "bot", "server", "account",
                  "opened_at", "notified_at", "notifications", "delivery_error", "acknowledged_at", "acknowledged_by",
                  "resolved_at", "resolution"]
        read_only_fields = fields


class AlertPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = AlertSerializer(many=True)


class AlertFilterSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=selectors.ALERT_STATES, required=False,
                                    help_text="open: nobody acknowledged it yet; acknowledged; resolved. All when absent.")
    bot = serializers.CharField(required=False, validators=[validate_name], help_text="Only this bot's alerts.")
