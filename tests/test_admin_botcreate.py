"""Create bot with typed forms (issue 10): named fields with units and defaults per strategy, Hummingbot's
connectors offered, sanity checks that need a confirmation, and a preview of the exact controller config."""
import json

import pytest
from django.urls import reverse

from bots import strategies
from bots.models import Bot
from tests.panel import create, typed_fields

pytestmark = pytest.mark.django_db
VOLUME = {"total_amount_quote": "2000", "order_amount_quote": "20", "min_price": "0.004", "max_price": "0.006"}
SANE_SPREAD = {"order_amount": "100", "budget_quote": "500"}  # SHARP at 0.005: 0.5 USDT per level


def add_page(panel) -> str:
    return panel.get(reverse("admin:bots_bot_add")).content.decode()


def test_create_form_has_named_fields_with_units_and_no_json_box(panel, upstream_account):
    html = add_page(panel)
    assert 'name="params"' not in html and "bots/strategies.py" not in html
    assert '<label for="id_spread-order_amount">Order amount (base):</label>' in html
    assert '<label for="id_volume-order_interval">Order interval (seconds):</label>' in html
    assert "key buy_spreads_pct · comma-separated, 1-5 levels · unit % · 0.01 to 20" in html
    assert 'name="spread-order_amount"' in html and 'value="1000"' not in html  # required: nothing pre-filled
    assert 'name="spread-order_refresh_time" value="30"' in html


def test_both_strategies_fields_stay_in_the_page_and_the_script_shows_the_chosen_one(panel, upstream_account):
    html = add_page(panel)
    assert 'data-strategy="spread"' in html and 'data-strategy="volume"' in html
    assert 'src="/static/bots/create_form.js"' in html


def test_volume_bot_ignores_what_was_typed_in_the_spread_fields(panel, upstream_account):
    response = create(panel, name="sharp_vol", strategy="volume", params=VOLUME,
                      **typed_fields("spread", {"order_amount": "1000", "budget_quote": "500"}))
    assert response.status_code == 302, response.context["form"].errors
    bot = Bot.objects.get(name="sharp_vol")
    assert bot.strategy == "volume" and bot.params["order_amount_quote"] == "20" and "order_amount" not in bot.params


def test_each_problem_is_shown_on_its_own_field(panel, upstream_account):
    response = create(panel, params={"order_refresh_time": "2"})
    errors = response.context["form"].errors
    assert errors["spread-order_amount"] == ["order amount is required"]
    assert errors["spread-budget_quote"] == ["budget is required"]
    assert errors["spread-order_refresh_time"] == ["order refresh time must be between 5 s and 3,600 s"]
    assert not Bot.objects.exists()


def test_order_amount_is_weighed_at_the_current_price_against_the_budget(panel, upstream_account):
    # 1000 SHARP at about 0.005 USDT is about 5 USDT an order: well inside 500 USDT, nothing to ask.
    assert create(panel, params={"order_amount": "1000", "budget_quote": "500"}, confirm="").status_code == 302
    response = create(panel, name="sharp_big", params={"order_amount": "100000", "budget_quote": "500"}, confirm="")
    html = response.content.decode()
    assert response.status_code == 200 and not Bot.objects.filter(name="sharp_big").exists()
    assert "1 buy and 1 sell order(s) of 100000 SHARP are worth" in html and "over the 500 USDT budget" in html
    assert response.context["form"].errors["confirm"]
    assert create(panel, name="sharp_big", params={"order_amount": "100000", "budget_quote": "500"},
                  confirm="on").status_code == 302


def test_spreads_far_from_the_book_need_a_confirmation(panel, upstream_account):
    response = create(panel, params={**SANE_SPREAD, "sell_spreads_pct": ["0.5", "12"]}, confirm="")
    assert "Spreads 12% are far from the book" in response.content.decode() and not Bot.objects.exists()


def test_a_sane_bot_deploys_without_a_confirmation(panel, upstream_account):
    assert create(panel, params=SANE_SPREAD, confirm="").status_code == 302


def test_connector_is_chosen_from_hummingbots_list_with_gateway_networks_marked(panel, upstream_account):
    html = add_page(panel)
    assert '<option value="bitmart">bitmart</option>' in html
    assert '<option value="jupiter">jupiter (Gateway, solana-mainnet-beta)</option>' in html
    response = create(panel, params=SANE_SPREAD, connector="notanexchange")
    assert "connector" in response.context["form"].errors and not Bot.objects.exists()


def test_connector_list_is_cached(panel, upstream_account, settings):
    add_page(panel)
    settings.HUMMINGBOT_API_URL = "http://127.0.0.1:9"  # Hummingbot gone: the cached list still serves
    assert '<option value="bitmart">bitmart</option>' in add_page(panel)


def test_preview_shows_the_exact_controller_config_and_deploys_nothing(panel, upstream_account):
    response = create(panel, params=SANE_SPREAD, deploy="", preview="Preview config")
    form = response.context["form"]
    assert response.status_code == 200 and not Bot.objects.exists()
    setup = strategies.parse_bot(strategy="spread", connector="bitmart", trading_pair="SHARP-USDT", params=SANE_SPREAD)
    assert json.loads(form.preview) == strategies.controller_config("sharp_mm", "bitmart", "SHARP-USDT", setup.params)
    assert "Controller config Hummingbot will receive" in response.content.decode()


def test_every_problem_is_reported_in_one_round_not_the_bot_fields_first(panel, upstream_account):
    response = create(panel, name="bad name", params={"order_amount": "100"})
    errors = response.context["form"].errors
    assert "name" in errors and errors["spread-budget_quote"] == ["budget is required"]
