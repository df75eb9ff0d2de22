"""The sandbox's POST /portfolio/state (docs/hummingbot-api.md §12): floats, filters, seeded per added credential."""
import requests

from tests.conftest import SANDBOX_PASSWORD


def post(sandbox, body):
    return requests.post(sandbox.url + "/portfolio/state", json=body, auth=("admin", SANDBOX_PASSWORD), timeout=5)


def test_portfolio_state_answers_floats_per_account_and_connector_seeded_by_added_keys(sandbox):
    auth = ("admin", SANDBOX_PASSWORD)
    requests.post(sandbox.url + "/accounts/add-account", params={"account_name": "client_a"}, auth=auth, timeout=5)
    requests.post(sandbox.url + "/accounts/add-credential/client_a/bitmart", auth=auth, timeout=5,
                  json={"bitmart_api_key": "k", "bitmart_secret_key": "s", "bitmart_memo": "m"})
    sandbox.state.portfolio.set_balance("client_a", "bitmart", "USDT", units=12.5, available=2.5)
    state = post(sandbox, {"account_names": None, "connector_names": None, "skip_gateway": False,
                           "refresh": False}).json()
    usdt = next(row for row in state["client_a"]["bitmart"] if row["token"] == "USDT")
    assert usdt == {"token": "USDT", "units": 12.5, "price": 1.0, "value": 12.5, "available_units": 2.5}
    assert {row["token"] for row in state["client_a"]["bitmart"]} == {"USDT", "SHARP"}
    assert post(sandbox, {"account_names": ["master_account"]}).json() == {}
    assert post(sandbox, {"connector_names": ["kucoin"]}).json() == {}
    requests.post(sandbox.url + "/accounts/delete-account", params={"account_name": "client_a"}, auth=auth, timeout=5)
    assert post(sandbox, {}).json() == {}  # the account's folder is gone, and its state with it
