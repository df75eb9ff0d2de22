"""Every failure kind of the one HTTP seam becomes a typed HummingbotError with a message a person can act on."""
import logging

import pytest
import requests
import responses

from bots.hummingbot.client import HummingbotClient
from bots.hummingbot.errors import (
    HummingbotAuthError,
    HummingbotError,
    HummingbotBadResponse,
    HummingbotNotFound,
    HummingbotRejected,
    HummingbotServerError,
    HummingbotTimeout,
    HummingbotUnreachable,
)
from tests.contracts.recorded import replay

BASE = "http://hb.test:8000"
PASSWORD = "pa55-never-shown"


@pytest.fixture
def client():
    return HummingbotClient(BASE, "admin", PASSWORD, timeout=1.5, retries=2)


@pytest.fixture
def mock():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def test_connection_refused_is_unreachable_and_transient(client, mock):
    mock.add("GET", f"{BASE}/bot-orchestration/status", body=requests.ConnectionError("refused"))
    with pytest.raises(HummingbotUnreachable) as err:
        client.bots_status()
    assert err.value.permanent is False
    assert "Cannot reach the Hummingbot API at http://hb.test:8000" in err.value.message
    assert "HUMMINGBOT_API_URL" in err.value.message


def test_refused_get_is_retried_then_reported(client, mock, monkeypatch):
    monkeypatch.setattr("bots.hummingbot.client.time.sleep", lambda s: None)
    mock.add("GET", f"{BASE}/accounts/", body=requests.ConnectionError("refused"))
    with pytest.raises(HummingbotUnreachable):
        client.list_accounts()
    assert len(mock.calls) == 3  # one try + 2 retries


def test_timeout_is_typed_transient_and_not_retried(client, mock):
    mock.add("GET", f"{BASE}/bot-orchestration/status", body=requests.ReadTimeout("slow"))
    with pytest.raises(HummingbotTimeout) as err:
        client.bots_status()
    assert err.value.permanent is False
    assert "did not answer GET /bot-orchestration/status within 1.5 s (HUMMINGBOT_TIMEOUT)" in err.value.message
    assert len(mock.calls) == 1


def test_wrong_password_says_which_settings_to_check(client, mock):
    replay(mock, BASE, "auth-wrong_bot-orchestration-status")
    with pytest.raises(HummingbotAuthError) as err:
        client.bots_status()
    assert err.value.permanent is True
    assert err.value.status == 401
    assert "check HUMMINGBOT_API_USERNAME/PASSWORD" in err.value.message
    assert len(mock.calls) == 1  # never retried


def test_missing_credentials_header_is_an_auth_error(mock):
    replay(mock, BASE, "auth-missing_bot-orchestration-status")
    with pytest.raises(HummingbotAuthError):
        HummingbotClient(BASE, "", "").bots_status()


def test_404_is_not_found_with_upstream_detail(client, mock):
    replay(mock, BASE, "archived-bots-trades_missing-db")
    with pytest.raises(HummingbotNotFound) as err:
        client.archived_trades("bots/archived/nope/data/nope.sqlite")
    assert err.value.permanent is True
    assert "Database path 'bots/archived/nope/data/nope.sqlite' not found" in err.value.message


def test_422_shows_the_upstream_field_messages(client, mock):
    replay(mock, BASE, "accounts-add-account_missing-param", url="/accounts/add-account?account_name=x")
    with pytest.raises(HummingbotRejected) as err:
        client.add_account("x")
    assert err.value.permanent is True
    assert err.value.status == 422
    assert "query.account_name: Field required" in err.value.message


def test_400_is_rejected_with_detail(client, mock):
    replay(mock, BASE, "accounts-add-account_duplicate")
    with pytest.raises(HummingbotRejected) as err:
        client.add_account("test_account")
    assert err.value.permanent is True
    assert "Account already exists." in err.value.message


def test_500_text_plain_is_a_transient_server_error_naming_likely_causes(client, mock):
    replay(mock, BASE, "deploy-v2-script_invalid-instance-name", url="/bot-orchestration/deploy-v2-controllers")
    with pytest.raises(HummingbotServerError) as err:
        client.deploy_controllers(instance_name="x", credentials_profile="a", controllers=["c"], image="i")
    assert err.value.permanent is False
    assert err.value.status == 500
    assert "HTTP 500" in err.value.message and "Internal Server Error" in err.value.message
    assert "[A-Za-z0-9_-]" in err.value.message


def test_503_get_is_retried_and_can_recover(client, mock, monkeypatch):
    monkeypatch.setattr("bots.hummingbot.client.time.sleep", lambda s: None)
    mock.add("GET", f"{BASE}/accounts/", status=503, body="busy")
    mock.add("GET", f"{BASE}/accounts/", json=["master_account"])
    assert client.list_accounts() == ["master_account"]


def test_post_is_never_retried(client, mock):
    mock.add("POST", f"{BASE}/bot-orchestration/stop-bot", status=503, body="busy")
    with pytest.raises(HummingbotServerError):
        client.stop_bot("b")
    assert len(mock.calls) == 1


def test_non_json_body_is_a_bad_response(client, mock):
    mock.add("GET", f"{BASE}/bot-orchestration/status", body="<html>proxy</html>", content_type="text/html")
    with pytest.raises(HummingbotBadResponse) as err:
        client.bots_status()
    assert err.value.permanent is False
    assert "unexpected answer from http://hb.test:8000 (HTTP 200 on GET /bot-orchestration/status)" in err.value.message
    assert "proxy" not in err.value.message


# Issue 15: what a server answers reaches people only through Hummingbot's own shapes (docs/hummingbot-api.md §1);
# anything else is "unexpected answer", its body never shown (a URL pointed at another service must not read it).
@pytest.mark.parametrize("status, content_type, body", [
    (500, "text/html", "<html>internal secret-in-body</html>"),
    (500, "text/plain", "Traceback: secret-in-body"),
    (503, "text/plain", "secret-in-body"),
    (404, "application/json", '{"error": "secret-in-body"}'),
    (400, "application/json", '["secret-in-body"]'),
    (422, "application/json", '{"detail": {"nested": "secret-in-body"}}'),
    (422, "application/json", '{"detail": [{"loc": ["secret-in-body"], "msg": {"x": "secret-in-body"}}]}'),
])
def test_an_error_body_in_no_hummingbot_shape_is_an_unexpected_answer_never_echoed(client, mock, status, content_type,
                                                                                  body):
    mock.add("POST", f"{BASE}/accounts/add-account", status=status, body=body, content_type=content_type)
    with pytest.raises(HummingbotError) as err:
        client.add_account("x")
    assert err.value.status == status
    assert f"unexpected answer from http://hb.test:8000 (HTTP {status} on POST /accounts/add-account)" in err.value.message
    assert "secret-in-body" not in err.value.message + repr(err.value.detail)


@pytest.mark.parametrize("call, method, path, body", [
    (lambda c: c.stop_and_archive_bot("b"), "POST", "/bot-orchestration/stop-and-archive-bot/b",
     {"status": "error", "secret": "secret-in-body"}),
    (lambda c: c.stop_and_archive_bot("b"), "POST", "/bot-orchestration/stop-and-archive-bot/b",
     {"status": "error", "message": {"secret": "secret-in-body"}}),
    (lambda c: c.deploy_controllers(instance_name="x", credentials_profile="a", controllers=["c"], image="i"),
     "POST", "/bot-orchestration/deploy-v2-controllers", {"success": False, "secret": "secret-in-body"}),
    (lambda c: c.stop_bot("b"), "POST", "/bot-orchestration/stop-bot",
     {"status": "success", "response": {"success": False, "message": ["secret-in-body"]}}),
    (lambda c: c.stop_bot("b"), "POST", "/bot-orchestration/stop-bot", {"secret": "secret-in-body"}),
    (lambda c: c.start_container("b"), "POST", "/docker/start-container/b", {"secret": "secret-in-body"}),
    (lambda c: c.active_containers(), "GET", "/docker/active-containers", {"secret": "secret-in-body"}),
    (lambda c: c.bots_status(), "GET", "/bot-orchestration/status", ["secret-in-body"]),
    (lambda c: c.server_info(), "GET", "/", {"secret": "secret-in-body"}),
    (lambda c: c.archived_trades("d.sqlite"), "GET", "/archived-bots/d.sqlite/trades",
     {"trades": [{"secret": "secret-in-body"}]}),
])
def test_a_200_in_no_hummingbot_shape_is_never_echoed(client, mock, call, method, path, body):
    mock.add(method, f"{BASE}{path}", json=body)
    with pytest.raises(HummingbotError) as err:
        call(client)
    assert "secret-in-body" not in err.value.message + repr(err.value.detail)


def test_the_docker_error_string_of_a_container_listing_is_shown_as_hummingbot_sends_it(client, mock):
    mock.add("GET", f"{BASE}/docker/active-containers", json="Error while fetching containers")
    with pytest.raises(HummingbotRejected) as err:
        client.active_containers()
    assert "Error while fetching containers" in err.value.message


def test_wrong_json_type_is_a_bad_response(client, mock):
    mock.add("GET", f"{BASE}/accounts/", json={"accounts": []})
    with pytest.raises(HummingbotBadResponse) as err:
        client.list_accounts()
    assert "unexpected answer to GET /accounts/ (dict, expected list)" in err.value.message


def test_status_error_inside_http_200_is_rejected(client, mock):
    replay(mock, BASE, "stop-and-archive-bot_unknown", url="/bot-orchestration/stop-and-archive-bot/nosuchbot")
    with pytest.raises(HummingbotRejected) as err:
        client.stop_and_archive_bot("nosuchbot")
    assert err.value.permanent is True
    assert "Bot 'nosuchbot' not found in active bots" in err.value.message


def test_success_false_inside_http_200_is_not_found_for_unknown_bot(client, mock):
    replay(mock, BASE, "stop-bot_unknown")
    with pytest.raises(HummingbotNotFound) as err:
        client.stop_bot("nosuchbot")
    assert "Bot nosuchbot not found" in err.value.message


def test_success_false_without_message_is_rejected(client, mock):
    mock.add("POST", f"{BASE}/bot-orchestration/stop-bot", json={"status": "success", "response": {"success": False}})
    with pytest.raises(HummingbotRejected) as err:
        client.stop_bot("b")
    assert "MQTT broker" in err.value.message


def test_deploy_success_false_inside_http_200_is_rejected(client, mock):
    mock.add(
        "POST",
        f"{BASE}/bot-orchestration/deploy-v2-controllers",
        json={"success": False, "message": "Password not provided."},
    )
    with pytest.raises(HummingbotRejected) as err:
        client.deploy_controllers(instance_name="x", credentials_profile="a", controllers=["c"], image="i")
    assert "Password not provided." in err.value.message


def test_history_timeout_inside_http_200_is_a_timeout(client, mock):
    body = {"status": "success", "response": {"success": False, "message": "No response received from b within 1 seconds", "timeout": True}}
    mock.add("GET", f"{BASE}/bot-orchestration/b/history", json=body)
    with pytest.raises(HummingbotTimeout) as err:
        client.bot_history("b", days=1)
    assert "No response received" in err.value.message


def test_docker_error_string_inside_http_200_is_rejected(client, mock):
    mock.add("POST", f"{BASE}/docker/start-container/b", json="Container b not found")
    with pytest.raises(HummingbotRejected) as err:
        client.start_container("b")
    assert "could not start container: Container b not found" in err.value.message


def test_unknown_bot_status_is_not_found(client, mock):
    replay(mock, BASE, "bot-orchestration-unknown-bot-status")
    with pytest.raises(HummingbotNotFound):
        client.bot_status("nosuchbot")


def test_no_request_is_sent_without_a_timeout(client, monkeypatch):
    sent = []

    def fake_request(self, method, url, **kwargs):
        sent.append(kwargs.get("timeout"))
        raise requests.ConnectionError("stop here")

    monkeypatch.setattr(requests.Session, "request", fake_request)
    monkeypatch.setattr("bots.hummingbot.client.time.sleep", lambda s: None)
    calls = [
        client.server_info, client.list_accounts, client.list_connectors,
        client.bots_status, client.archived_bots, client.active_containers, client.exited_containers,
        lambda: client.add_account("a"), lambda: client.connector_config_map("bitmart"),
        lambda: client.add_credentials("a", "bitmart", {"k": "v"}), lambda: client.upload_controller("generic", "v", "x"),
        lambda: client.controller_source("generic", "v"),
        lambda: client.save_controller_config("c", {}), lambda: client.validate_controller_config("generic", "c", {}),
        lambda: client.deploy_controllers(instance_name="x", credentials_profile="a", controllers=["c"], image="i"),
        lambda: client.start_bot("b"), lambda: client.stop_bot("b"), lambda: client.stop_and_archive_bot("b"),
        lambda: client.bot_status("b"), lambda: client.bot_history("b", days=1), lambda: client.stop_container("b"),
        lambda: client.start_container("b"), lambda: client.archived_trades("bots/archived/b/data/b.sqlite"),
    ]
    for call in calls:
        with pytest.raises(HummingbotUnreachable):
            call()
    assert len(sent) >= len(calls)
    assert all(t is not None and all(part and part > 0 for part in t) for t in sent)


@pytest.mark.parametrize("body", [{"name": "v", "type": "generic"}, {"name": "v", "type": "generic", "content": None}, []])
def test_a_controller_read_back_without_its_code_is_a_bad_response(client, mock, body):
    mock.add("GET", f"{BASE}/controllers/generic/v", json=body)
    with pytest.raises(HummingbotBadResponse, match="GET /controllers/generic/v"):
        client.controller_source("generic", "v")


def test_failing_calls_never_leak_the_password_or_exchange_keys(client, mock, caplog):
    caplog.set_level(logging.DEBUG)
    replay(mock, BASE, "auth-wrong_bot-orchestration-status")
    mock.add("POST", f"{BASE}/accounts/add-credential/client_sharp/bitmart", status=400,
             json={"detail": "Invalid key 'KEY-abcdef123' for bitmart"})
    mock.add("GET", f"{BASE}/accounts/", body=requests.ConnectionError("refused"))
    errors = []
    for call in (client.bots_status,
                 lambda: client.add_credentials("client_sharp", "bitmart", {"bitmart_api_key": "KEY-abcdef123"}),
                 lambda: HummingbotClient(BASE, "admin", PASSWORD, retries=0).list_accounts()):
        with pytest.raises(Exception) as err:
            call()
        errors.append(err.value)
    text = caplog.text + repr(client) + "".join(f"{e!s}{e!r}{e.detail!r}" for e in errors)
    assert PASSWORD not in text
    assert "KEY-abcdef123" not in text
    assert "Invalid key '***' for bitmart" in str(errors[1])


@pytest.mark.parametrize("method, path, call", [
    ("GET", "/accounts/", lambda client: client.list_accounts()),
    ("POST", "/bot-orchestration/stop-bot", lambda client: client.stop_bot("b")),
])
def test_longest_call_is_every_attempt_timing_out_and_every_pause_between(client, mock, monkeypatch, method, path,
                                                                          call):
    """What a claim held across calls must outlast (services/params.py): the worst case of the retry policy."""
    pauses = []
    monkeypatch.setattr("bots.hummingbot.client.time.sleep", pauses.append)
    mock.add(method, f"{BASE}{path}", status=503, body="busy")
    with pytest.raises(HummingbotServerError):
        call(client)
    timeouts = [sum(sent.request.req_kwargs["timeout"]) for sent in mock.calls]
    assert client.longest_call_seconds(method) == sum(timeouts) + sum(pauses)
    assert len(timeouts) == (3 if method == "GET" else 1)
