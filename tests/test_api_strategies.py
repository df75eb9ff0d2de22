"""A frontend builds its create form without reading our code: GET /strategies gives each strategy's parameters (key,
type, unit, range, default, whether it changes live) from bots/strategies.py's tables; the OpenAPI schema documents a
create body per strategy, discriminated by `strategy`, with an example each that deploys as it is; errors name the
fields as the request does."""
import json

import pytest
from rest_framework.test import APIClient

from bots import strategies
from bots.models import Bot

pytestmark = pytest.mark.django_db

SPREAD = {"order_amount": "1000", "budget_quote": "500"}


def facts_of(api, strategy):
    body = api.get("/strategies").json()
    return next(entry for entry in body["strategies"] if entry["name"] == strategy)


def param(facts, key):
    return next(entry for entry in facts["params"] if entry["key"] == key)


def test_strategies_lists_each_parameter_with_type_unit_range_default_and_live(api):
    spread, volume = facts_of(api, "spread"), facts_of(api, "volume")
    assert [p["key"] for p in spread["params"]] == list(strategies.SPREAD_PARAMS)
    assert [p["key"] for p in volume["params"]] == list(strategies.VOLUME_PARAMS)
    assert (spread["controller"], spread["venues"]) == ("generic/pmm_v1", ["exchange"])
    assert volume["venues"] == ["exchange", "gateway"]
    assert param(spread, "order_amount") == {
        "key": "order_amount", "label": "order amount", "type": "decimal", "unit": "base", "required": True,
        "default": None, "live": True, "min": "0", "min_exclusive": True, "max": "1000000000000", "decimal_places": 18}
    assert param(spread, "buy_spreads_pct") | {"label": ""} == {
        "key": "buy_spreads_pct", "label": "", "type": "decimal_list", "unit": "%", "required": False,
        "default": ["0.5"], "live": True, "min": "0.01", "min_exclusive": False, "max": "20", "decimal_places": 16,
        "min_items": 1, "max_items": 5}
    assert param(spread, "order_refresh_time") | {"label": ""} == {
        "key": "order_refresh_time", "label": "", "type": "integer", "unit": "seconds", "required": False,
        "default": 30, "live": True, "min": 5, "min_exclusive": False, "max": 3600}
    assert (param(spread, "inventory_skew_enabled")["type"], param(spread, "inventory_skew_enabled")["default"]) == (
        "boolean", True)
    assert (param(spread, "price_floor")["required"], param(spread, "price_floor")["default"]) == (False, None)  # off
    assert param(spread, "budget_quote")["live"] is False and param(volume, "max_leg_pct")["live"] is False
    assert {"field": "order_amount_quote", "rule": "order_amount_quote <= total_amount_quote × max_leg_pct / 100"} in (
        volume["rules"])


@pytest.mark.parametrize("strategy", list(strategies.STRATEGIES))
def test_each_range_given_is_the_one_validation_enforces(api, strategy):
    spec = strategies.STRATEGIES[strategy]
    for facts in facts_of(api, strategy)["params"]:
        if facts["type"] == "boolean":
            continue
        number = getattr(spec.params[facts["key"]], "item", spec.params[facts["key"]])
        for value, accepted in [(facts["min"], not facts["min_exclusive"]), (facts["max"], True),
                                (str(strategies.Decimal(str(facts["max"])) + 1), False)]:
            try:
                number.clean(value)
            except ValueError:
                assert not accepted, (facts["key"], value)
            else:
                assert accepted, (facts["key"], value)


def test_strategies_needs_the_bot_view_permission(django_user_model, db):
    client = APIClient()
    assert client.get("/strategies").status_code in (401, 403)
    client.force_authenticate(django_user_model.objects.create_user("nobody"))
    assert client.get("/strategies").json()["error"]["code"] == "permission_denied"


# --- the OpenAPI schema --------------------------------------------------------------------------------


def schema(api):
    return json.loads(api.get("/api/schema?format=json").content)


def create_body_schema(api):
    document = schema(api)
    body = document["paths"]["/bots/create"]["post"]["requestBody"]["content"]["application/json"]
    return document, body


def component(document, ref):
    """The component a schema refers to, directly or through drf-spectacular's allOf wrapper."""
    ref = ref["allOf"][0] if "allOf" in ref else ref
    return document["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]


def test_the_create_body_is_documented_per_strategy_not_as_an_untyped_config(api):
    document, body = create_body_schema(api)
    create = component(document, body["schema"])
    assert create["discriminator"]["propertyName"] == "strategy"
    bodies = {name: component(document, {"$ref": ref}) for name, ref in create["discriminator"]["mapping"].items()}
    assert create["oneOf"] == [{"$ref": ref} for ref in create["discriminator"]["mapping"].values()]
    assert set(bodies) == {"spread", "volume"}
    for strategy, create in bodies.items():
        assert component(document, create["properties"]["strategy"])["enum"] == [strategy]
        assert create["additionalProperties"] is False
        config = component(document, create["properties"]["config"])
        assert component(document, create["properties"]["params"]) == config
        assert list(config["properties"]) == list(strategies.STRATEGIES[strategy].params)
        assert config["additionalProperties"] is False
    spread = component(document, bodies["spread"]["properties"]["config"])
    assert sorted(spread["required"]) == ["budget_quote", "order_amount"]
    amount = spread["properties"]["order_amount"]
    assert {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 1000000000000} in amount["anyOf"]
    assert "unit base" in amount["description"] and "changes live" in amount["description"]
    assert spread["properties"]["price_floor"]["nullable"] is True


def test_each_strategy_has_an_example_that_deploys_as_it_is(api, upstream_account):
    _, body = create_body_schema(api)
    examples = body["examples"]
    assert {example["value"]["strategy"] for example in examples.values()} == {"spread", "volume"}
    for example in examples.values():
        response = api.post("/bots/create", example["value"], format="json")
        assert response.status_code == 201, response.json()
    assert Bot.objects.count() == 2


# --- errors use the request's names -----------------------------------------------------------------


def create_body(**overrides):
    return {"name": "sharp_mm", "account": "client_sharp", "strategy": "spread", "connector": "bitmart",
            "pair": "SHARP/USDT", "config": dict(SPREAD), **overrides}


def test_a_bad_pair_is_named_pair_as_in_the_request(api, account):
    error = api.post("/bots/create", create_body(pair="SHARPUSDT"), format="json").json()["error"]
    assert list(error["details"]) == ["pair"] and error["message"].startswith("pair: Trading pair must look like")


@pytest.mark.parametrize("key", ["config", "params"])
def test_a_bad_parameter_is_named_inside_the_object_the_request_used(api, account, key):
    body = create_body(config=None)
    del body["config"]
    body[key] = {**SPREAD, "order_amount": "-1", "colour": "red"}
    error = api.post("/bots/create", body, format="json").json()["error"]
    assert set(error["details"]) == {f"{key}.order_amount", f"{key}.colour"}
    assert error["message"].startswith(f"{key}.")


def test_a_refused_live_change_is_named_inside_config(api, upstream_account):
    assert api.post("/bots/create", create_body(), format="json").status_code == 201
    api.get("/bots")
    error = api.patch("/bots/sharp_mm", {"config": {"trading_pair": "BTC-USDT", "budget_quote": "9"}},
                      format="json").json()["error"]
    assert set(error["details"]) == {"config.trading_pair", "config.budget_quote"}
