from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from bots import strategies
from bots.models import Account, Bot, BotEvent, Trade
from bots.validators import BOT_NAME_MAX_LENGTH, validate_name


class BotSerializer(serializers.ModelSerializer):
    """The seed's keys (id, name, status, strategy, connector, pair, chain) plus what the panel adds."""

    pair = serializers.CharField(source="trading_pair")
    chain = serializers.CharField()
    venue = serializers.CharField()
    network = serializers.CharField(allow_null=True)
    account = serializers.CharField(source="account.name", allow_null=True, default=None)
    synced_at = serializers.DateTimeField(source="status_synced_at", allow_null=True)
    stale = serializers.SerializerMethodField()

    class Meta:
        model = Bot
        fields = [
            "id", "name", "status", "strategy", "connector", "pair", "chain", "venue", "network", "account",
            "hummingbot_name", "last_error", "synced_at", "trades_synced_at", "trades_sync_error", "stale", "params",
            "created_at",
        ]
        read_only_fields = fields

    def get_stale(self, bot) -> bool:
        if self.context.get("upstream_ok") is False:
            return True
        return bot.status != Bot.Status.ARCHIVED and bot.status_synced_at is None


class BotCreatedSerializer(BotSerializer):
    """The create answer: the bot, and warnings a person should read (adopted bots on the same market)."""

    warnings = serializers.SerializerMethodField()

    class Meta(BotSerializer.Meta):
        fields = BotSerializer.Meta.fields + ["warnings"]

    def get_warnings(self, bot) -> list[str]:
        return self.context["warnings"]


class BotCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=BOT_NAME_MAX_LENGTH, validators=[validate_name])
    account = serializers.SlugRelatedField(slug_field="name", queryset=Account.objects.all())
    strategy = serializers.ChoiceField(choices=list(strategies.STRATEGIES))
    connector = serializers.CharField(max_length=64)
    pair = serializers.CharField(max_length=129)
    params = serializers.DictField(required=False, default=dict)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].error_messages["does_not_exist"] = "Unknown account '{value}': create it first."
        self.fields["strategy"].error_messages["invalid_choice"] = (
            f"Unknown strategy \"{{input}}\": use one of {', '.join(strategies.STRATEGIES)}."
        )


class BotEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = BotEvent
        fields = ["at", "actor", "action", "ok", "detail"]


class UpstreamSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    error = serializers.CharField(required=False)
    code = serializers.CharField(required=False)


class BotListSerializer(serializers.Serializer):
    bots = BotSerializer(many=True)
    synced_at = serializers.DateTimeField(allow_null=True, help_text="Last status list Hummingbot answered.")
    age_seconds = serializers.IntegerField(allow_null=True)
    upstream = UpstreamSerializer(required=False, help_text="Present when the last attempt failed.")


class TradeSummarySerializer(serializers.Serializer):
    trades = serializers.IntegerField()
    bought_base = serializers.DecimalField(max_digits=38, decimal_places=18)
    sold_base = serializers.DecimalField(max_digits=38, decimal_places=18)
    bought_quote = serializers.DecimalField(max_digits=38, decimal_places=18)
    sold_quote = serializers.DecimalField(max_digits=38, decimal_places=18)
    fees_quote = serializers.DecimalField(max_digits=38, decimal_places=18)
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


class AccountSerializer(serializers.ModelSerializer):
    class Meta:
        model = Account
        fields = ["id", "name", "label", "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"name": {"validators": [validate_name]}}


class CredentialsSerializer(serializers.Serializer):
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
    class Meta:
        model = Trade
        fields = ["trade_id", "timestamp", "trading_pair", "side", "price", "amount", "fee_quote"]


class TradeFilterSerializer(serializers.Serializer):
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
    side = serializers.ChoiceField(choices=Trade.Side.values, required=False)


class TradeExportFilterSerializer(TradeFilterSerializer):
    side = None
    bot = serializers.CharField(required=False, validators=[validate_name])
    account = serializers.CharField(required=False, validators=[validate_name])
