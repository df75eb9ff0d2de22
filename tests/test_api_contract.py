"""The API's contract with the frontend: a bot's id is its name, the seed's create body is taken verbatim,
and every error that is the caller's fault is a 4xx in the house error shape, never a 500."""
import json

import pytest
import responses
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from bots.models import Bot

pytestmark = pytest.mark.django_db

SPREAD = {"order_amount": "1000", "budget_quote": "500", "buy_spreads_pct": [0.5], "sell_spreads_pct": [0.5]}
# The seed frontend's create request, exactly as it sends it.
SEED_BODY = {"name": "sharp_mm", "strategy": "spread", "connector": "bitmart", "pair": "SHARP/USDT",
             "account": "client_sharp", "config": SPREAD}
STATUS_URL = f"{settings.HUMMINGBOT_API_URL}/bot-orchestration/status"


@pytest.fixture
def no_upstream():
    """Any HTTP call to Hummingbot fails the test: bad input must be refused before it."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
    assert not mock.calls, [c.request.url for c in mock.calls]


def make_bot(account, name, **fields):
    return Bot.objects.create(**{"name": name, "account": account, "strategy": "spread", "connector": "bitmart",
                                 "trading_pair": "SHARP-USDT", "status": "stopped", **fields})


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code and error["message"], error
    return error


# --- ids are names --------------------------------------------------------------------------------


def test_a_bot_named_like_another_bots_number_is_the_one_its_url_names(api, account):
    first = make_bot(account, "first")
    named_like_it = make_bot(account, str(first.pk))
    body = api.get(f"/bots/{first.pk}").json()
    assert body["id"] == body["name"] == named_like_it.name
    assert api.get("/bots/first").json()["id"] == "first"


@pytest.mark.parametrize("key", ["²", "١", "%00", "1"])
def test_keys_that_are_not_a_bot_name_are_404_never_500_nor_another_bot(api, account, key):
    make_bot(account, "first")
    assert_error(api.get(f"/bots/{key}"), 404, "not_found")
    assert_error(api.post(f"/bots/{key}/start"), 404, "not_found")


def test_the_list_gives_the_name_as_id_and_the_pair_as_the_seed_and_hummingbot_write_it(api, account):
    make_bot(account, "sharp_mm", hummingbot_name="sharp_mm-20260101-000000")
    with responses.RequestsMock() as mock:
        mock.add("GET", STATUS_URL, json={"status": "success", "data": {}})
        bot = api.get("/bots").json()["bots"][0]
    assert bot["id"] == "sharp_mm"
    assert bot["pair"] == "SHARP/USDT" and bot["trading_pair"] == "SHARP-USDT"


@pytest.mark.parametrize("name", ["create", "start", "stop", "trades", "CREATE"])
def test_reserved_names_are_refused_by_the_api(api, account, no_upstream, name):
    error = assert_error(api.post("/bots/create", {**SEED_BODY, "name": name}, format="json"), 400, "invalid")
    assert "reserved" in error["details"]["name"][0]
    assert not Bot.objects.exists()


def test_reserved_names_are_refused_by_the_model_so_admin_and_services_refuse_them_too(account):
    with pytest.raises(ValidationError) as refused:
        Bot(name="create", account=account, strategy="spread", connector="bitmart", trading_pair="A-B").full_clean()
    assert "name" in refused.value.message_dict


def test_an_adopted_bot_never_takes_a_reserved_name(db):
    from bots.services import bots_sync

    running = {"status": "running", "performance": {}, "error_logs": [], "general_logs": [], "recently_active": True,
               "source": "docker"}
    with responses.RequestsMock() as mock:
        mock.add("GET", STATUS_URL, json={"status": "success", "data": {"create-20260101-000000": running}})
        bots_sync()
    adopted = Bot.objects.get(hummingbot_name="create-20260101-000000")
    assert adopted.name != "create"
    adopted.full_clean()


# --- the seed's create body ---------------------------------------------------------------------


def test_the_seed_create_body_is_accepted_verbatim_and_deployed(api, upstream_account):
    response = api.post("/bots/create", SEED_BODY, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["id"] == "sharp_mm" and created["pair"] == "SHARP/USDT" and created["trading_pair"] == "SHARP-USDT"
    bot = Bot.objects.get()
    assert bot.trading_pair == "SHARP-USDT" and bot.params["order_amount"] == "1000"
    assert bot.hummingbot_name.startswith("sharp_mm-")


def test_params_stays_accepted_as_the_name_of_config(api, upstream_account):
    body = {key: value for key, value in SEED_BODY.items() if key != "config"}
    assert api.post("/bots/create", {**body, "params": SPREAD, "pair": "SHARP-USDT"}, format="json").status_code == 201


def test_config_and_params_together_are_refused(api, account, no_upstream):
    error = assert_error(api.post("/bots/create", {**SEED_BODY, "params": SPREAD}, format="json"), 400, "invalid")
    assert "params" in error["details"]


def test_unknown_top_level_keys_are_refused_naming_them(api, account, no_upstream):
    error = assert_error(api.post("/bots/create", {**SEED_BODY, "notes": "x", "colour": "red"}, format="json"),
                         400, "invalid")
    assert set(error["details"]) == {"notes", "colour"}
    assert error["message"].startswith("colour: Unknown field")
    assert not Bot.objects.exists()


# --- caller errors are 4xx ------------------------------------------------------------------------


@pytest.mark.parametrize("connector", ["%2e%2e", "bit-mart", "BIT MART"])
def test_credentials_for_a_malformed_connector_are_400_naming_the_connector(api, account, no_upstream, connector):
    response = api.post(f"/accounts/{account.name}/credentials/{connector}", {"credentials": {"api_key": "k"}},
                        format="json")
    assert "connector" in assert_error(response, 400, "invalid")["details"]


def test_credentials_for_an_unknown_account_are_404(api, db, no_upstream):
    assert_error(api.post("/accounts/nobody/credentials/bitmart", {"credentials": {"api_key": "k"}}, format="json"),
                 404, "not_found")


@pytest.mark.parametrize("over", [1, 3 * 1024 * 1024])
def test_a_body_over_the_limit_is_413_in_the_error_shape(api, account, no_upstream, over):
    size = getattr(settings, "API_MAX_BODY_BYTES", 0) + over
    padding = "x" * (size - len(json.dumps({**SEED_BODY, "notes": ""})))
    raw = json.dumps({**SEED_BODY, "notes": padding})
    assert len(raw) == size
    error = assert_error(api.post("/bots/create", raw, content_type="application/json"), 413, "too_large")
    assert str(settings.API_MAX_BODY_BYTES) in error["message"]
    assert not Bot.objects.exists()


def test_a_create_body_just_under_the_limit_is_judged_on_its_content(api, account, no_upstream):
    raw = json.dumps({**SEED_BODY, "name": "bad.name"})
    assert api.post("/bots/create", raw, content_type="application/json").status_code == 400


@pytest.mark.parametrize("raw", ["[" * 2000 + "]" * 2000, json.dumps({**SEED_BODY, "config": {"a": "PLACEHOLDER"}})
                                 .replace('"PLACEHOLDER"', "{\"a\":" * 2000 + "1" + "}" * 2000)])
def test_json_nested_2000_deep_is_400_not_a_crash(api, account, no_upstream, raw):
    assert_error(api.post("/bots/create", raw, content_type="application/json"), 400, "parse_error")


def test_starting_an_adopted_external_bot_is_409_with_the_reason_and_nothing_changes(api, hummingbot):
    bot = Bot.objects.create(name="ext", hummingbot_name="ext-20260101-000000", strategy="external", status="stopped")
    error = assert_error(api.post("/bots/ext/start"), 409, "conflict")
    assert "external" in error["message"] or "adopted" in error["message"]
    bot.refresh_from_db()
    assert bot.status == "stopped"


# --- archive: one permission in the API and the admin ---------------------------------------------


def desk_user(django_user_model, *codenames):
    user = django_user_model.objects.create_user(f"u_{'_'.join(codenames)}", password="pw-x-123", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="bots", codename__in=codenames))
    return user


def archive_by_api(user, bot):
    client = APIClient()
    client.force_authenticate(user)
    return client.delete(f"/bots/{bot.name}").status_code


def archive_in_admin(user, bot):
    client = Client()
    client.force_login(user)
    return client.post(reverse("admin:bots_bot_action", args=[bot.pk, "archive"])).status_code


@pytest.mark.parametrize("archive", [archive_by_api, archive_in_admin])
def test_archiving_needs_change_bot_in_the_api_and_the_admin(django_user_model, account, archive):
    never_deployed = make_bot(account, "never_deployed", status="error")  # archived here only: no upstream call
    can_change = desk_user(django_user_model, "view_bot", "change_bot")
    assert archive(can_change, never_deployed) in (202, 302)
    never_deployed.refresh_from_db()
    assert never_deployed.status == "archived"


@pytest.mark.parametrize("archive", [archive_by_api, archive_in_admin])
def test_delete_bot_alone_does_not_allow_archiving(django_user_model, account, archive):
    bot = make_bot(account, "kept", status="error")
    can_only_delete = desk_user(django_user_model, "view_bot", "delete_bot")
    assert archive(can_only_delete, bot) == 403
    bot.refresh_from_db()
    assert bot.status == "error"


def test_a_query_string_with_too_many_fields_is_400_not_500(api, db):
    query = "&".join(f"f{i}=1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    assert_error(api.get(f"/trades.csv?{query}"), 400, "bad_request")


@pytest.mark.parametrize("path", ["/trades.csv?until=", "/trades.csv?since=", "/trades.csv?bot=",
                                  "/bots/first/trades?until=", "/bots/first/trades?side="])
def test_an_empty_filter_is_refused_not_ignored(api, account, path):
    make_bot(account, "first")
    field = path.split("?")[1].rstrip("=")
    assert field in assert_error(api.get(path), 400, "invalid")["details"]


@pytest.mark.parametrize("body", ["SpreadBotCreateRequest", "VolumeBotCreateRequest"])
def test_the_create_schema_is_as_strict_as_validation_on_empty_strings(api, body):
    create = json.loads(api.get("/api/schema?format=json").content)["components"]["schemas"][body]
    for field in ("name", "account", "connector", "pair"):
        assert create["properties"][field].get("minLength", 0) >= 1 or "pattern" in create["properties"][field], field
    assert create["additionalProperties"] is False


def test_a_number_for_a_text_field_is_refused_not_turned_into_text(api, db, no_upstream):
    error = assert_error(api.post("/accounts", {"name": "client_x", "label": 5}, format="json"), 400, "invalid")
    assert error["details"] == {"label": ["Must be a string."]}


def test_read_only_keys_are_refused_on_create(api, db, no_upstream):
    error = assert_error(api.post("/accounts", {"name": "client_x", "id": 7}, format="json"), 400, "invalid")
    assert list(error["details"]) == ["id"]


@pytest.mark.parametrize("path, body", [
    ("/accounts", {"name": "a\u0000b"}),
    ("/bots/create", {**SEED_BODY, "name": "a\u0000b"}),
    ("/bots/create", {**SEED_BODY, "account": "a\u0000b"}),
    ("/accounts/client_sharp/credentials/bitmart", {"credentials": {"api_key": "a\u0000b"}}),
])
def test_a_nul_character_is_400_on_every_database(api, account, no_upstream, path, body):
    assert_error(api.post(path, body, format="json"), 400, "invalid")
