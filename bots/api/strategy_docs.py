"""What the API says about the strategies, all from bots/strategies.py's tables (strategies.strategy_facts): the
serializers of GET /strategies, and the OpenAPI schema's create body per strategy (discriminated by `strategy`, each
parameter typed, ranged and described) with an example each. The bodies document; BotCreateSerializer validates (it
hands the parameters to strategies.parse_bot, the one parser), and the schema's bodies are built from it, so a field
it gains is documented for every strategy."""
import json

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import OpenApiExample, PolymorphicProxySerializer
from rest_framework import serializers

from bots import strategies
from bots.api.serializers import BotCreateSerializer, StrictKeysMixin

# --- GET /strategies --------------------------------------------------------------------------------------------


class StrategyParamSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="Its name in `config`.")
    label = serializers.CharField()
    type = serializers.ChoiceField(choices=["decimal", "integer", "boolean", "decimal_list"], help_text=(
        "decimal: a JSON number or a decimal string (\"0.5\"); decimal_list: a list of those; integer: whole numbers."))
    unit = serializers.CharField(help_text="base, quote, %, seconds, ×, legs, or empty.")
    required = serializers.BooleanField()
    default = serializers.JSONField(allow_null=True, help_text=(
        "Used when the parameter is left out or null; null with `required` false means off."))
    live = serializers.BooleanField(help_text="Changes on a running bot (PATCH /bots/{id}); otherwise set at start.")
    min = serializers.JSONField(required=False, help_text="Decimals as strings, integers as numbers.")
    min_exclusive = serializers.BooleanField(required=False, help_text="true: the value must be greater than min.")
    max = serializers.JSONField(required=False)
    decimal_places = serializers.IntegerField(required=False, help_text="Finer values are refused, never rounded.")
    min_items = serializers.IntegerField(required=False)
    max_items = serializers.IntegerField(required=False)


class StrategyRuleSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The parameter an error names when the rule is broken.")
    rule = serializers.CharField()


class StrategySerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The `strategy` of a create body.")
    controller = serializers.CharField(help_text="The Hummingbot controller it runs.")
    venues = serializers.ListField(child=serializers.ChoiceField(choices=["exchange", "gateway"]))
    params = StrategyParamSerializer(many=True)
    rules = StrategyRuleSerializer(many=True, help_text="Cross-parameter checks.")


class StrategyListSerializer(serializers.Serializer):
    strategies = StrategySerializer(many=True)


# --- the create body per strategy (OpenAPI only) ------------------------------------------------------------------


class ParamField(serializers.Field):
    """One strategy parameter, documented by its JSON schema (ParamFieldSchema); never used to validate."""

    def __init__(self, schema: dict, *, required: bool):
        self.schema = schema
        super().__init__(required=required)


class ParamFieldSchema(OpenApiSerializerFieldExtension):
    target_class = ParamField

    def map_serializer_field(self, auto_schema, direction):
        return self.target.schema


def _number(facts: dict) -> dict:
    """A JSON number within the range, or the same as a decimal string (whose range the API checks)."""
    integer = facts["type"] == "integer"
    number = {"type": "integer" if integer else "number", "minimum": _json_number(facts["min"])}
    if facts["min_exclusive"]:
        number["exclusiveMinimum"] = True  # OpenAPI 3.0: a flag on minimum
    number["maximum"] = _json_number(facts["max"])
    return {"anyOf": [number, {"type": "string", "description": 'the same number as text, e.g. "0.5"'}]}


def _json_number(value) -> int | float:
    """The bound as a JSON number: the facts give decimals as strings."""
    number = float(value)
    return int(number) if number.is_integer() else number


def _description(facts: dict) -> str:
    if facts["required"]:
        default = "required"
    elif facts["default"] is None:
        default = "off when left out"
    else:
        default = f"default {json.dumps(facts['default'])}"
    parts = [facts["label"], f"unit {facts['unit']}" if facts["unit"] else "",
             f"{'>' if facts['min_exclusive'] else '≥'} {facts['min']}, ≤ {facts['max']}" if "min" in facts else "",
             default, "changes live" if facts["live"] else "set at start"]
    return " · ".join(part for part in parts if part)


def _param_schema(facts: dict) -> dict:
    if facts["type"] == "boolean":
        schema = {"type": "boolean"}
    elif facts["type"] == "decimal_list":
        schema = {"type": "array", "items": _number({**facts, "type": "decimal"}), "minItems": facts["min_items"],
                  "maxItems": facts["max_items"]}
    else:
        schema = _number(facts)
    if not facts["required"]:
        schema["nullable"] = True  # null: the default, or off
    return {**schema, "description": _description(facts)}


def _params_serializer(facts: dict) -> type[serializers.Serializer]:
    """Strict (StrictAutoSchema: additionalProperties false), as parse_params refuses unknown parameters."""
    fields = {p["key"]: ParamField(_param_schema(p), required=p["required"]) for p in facts["params"]}
    return type(f"{facts['name'].title()}Params", (StrictKeysMixin, serializers.Serializer), {
        **fields, "__doc__": f"The {facts['name']} strategy's parameters in desk units (GET /strategies)."})


def _create_body(facts: dict) -> type[serializers.Serializer]:
    params = _params_serializer(facts)
    return type(f"{facts['name'].title()}BotCreate", (BotCreateSerializer,), {
        "__doc__": f"Create a {facts['name']} bot ({facts['controller']}; {', '.join(facts['venues'])}).",
        "strategy": serializers.ChoiceField(choices=[facts["name"]]),
        "config": params(required=False, help_text="The strategy's parameters."),
        "params": params(required=False, help_text="Synonym of `config`; give one of them."),
    })


def create_body_schema() -> PolymorphicProxySerializer:
    return PolymorphicProxySerializer(
        component_name="BotCreate", resource_type_field_name="strategy",
        serializers={facts["name"]: _create_body(facts) for facts in strategies.strategy_facts()})


CREATE_EXAMPLES = [
    OpenApiExample("spread", request_only=True, summary="Spread bot on bitmart (pmm_v1)", value={
        "name": "sharp_mm", "account": "client_sharp", "strategy": "spread", "connector": "bitmart",
        "pair": "SHARP/USDT", "config": {"order_amount": "1000", "budget_quote": "500", "buy_spreads_pct": [0.5, 1],
                                         "sell_spreads_pct": [0.5, 1], "order_refresh_time": 30}}),
    OpenApiExample("volume", request_only=True, summary="Volume bot on bitmart (volume_taker)", value={
        "name": "sharp_vol", "account": "client_sharp", "strategy": "volume", "connector": "bitmart",
        "pair": "SOL/USDT", "config": {"total_amount_quote": "2000", "order_amount_quote": "20",
                                       "min_price": "140", "max_price": "160", "order_interval": 60}}),
]
