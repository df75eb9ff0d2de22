"""Models refuse bad names, pairs and amounts with messages a person can act on."""
from datetime import datetime, timezone

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from bots.models import Account, Bot, Trade

pytestmark = pytest.mark.django_db

BAD_NAMES = ["bad.name", "has space", "../etc", "naïve", "名字", "x" * 65, "", "semi;colon", "new\nline"]


@pytest.fixture
def account():
    return Account.objects.create(name="client_sharp")


def make_bot(account, **overrides):
    fields = {"name": "sharp_mm", "account": account, "strategy": "spread", "connector": "bitmart", "trading_pair": "SHARP-USDT"}
    return Bot(**{**fields, **overrides})


@pytest.mark.parametrize("name", BAD_NAMES)
def test_account_name_outside_hummingbot_charset_is_refused(name):
    with pytest.raises(ValidationError) as err:
        Account(name=name).full_clean()
    assert "name" in err.value.message_dict


def test_account_name_message_says_what_is_allowed():
    with pytest.raises(ValidationError) as err:
        Account(name="bad.name").full_clean()
    assert err.value.message_dict["name"] == ["Use only letters A-Z, digits, '_' and '-' (no spaces, dots, slashes or accents)."]


@pytest.mark.parametrize("name", BAD_NAMES + ["x" * 48])
def test_bot_name_outside_charset_or_too_long_is_refused(account, name):
    with pytest.raises(ValidationError) as err:
        make_bot(account, name=name).full_clean()
    assert "name" in err.value.message_dict


def test_valid_bot_passes_full_clean(account):
    make_bot(account, name="sharp_mm-01").full_clean()


@pytest.mark.parametrize("pair", ["SHARPUSDT", "SHARP-", "-USDT", "sharp usdt", "A-B-C", "SHARP_USDT"])
def test_trading_pair_must_be_base_dash_quote(account, pair):
    with pytest.raises(ValidationError) as err:
        make_bot(account, trading_pair=pair).full_clean()
    assert err.value.message_dict["trading_pair"] == ["Trading pair must look like BASE-QUOTE, e.g. SHARP-USDT."]


def trade(bot, **overrides):
    fields = {"bot": bot, "trade_id": "T1", "timestamp": datetime(2026, 1, 1, tzinfo=timezone.utc),
              "trading_pair": "SHARP-USDT", "side": "buy", "price": "0.005", "amount": "1000"}
    return Trade(**{**fields, **overrides})


@pytest.mark.parametrize("field", ["price", "amount"])
def test_negative_amounts_are_refused(account, field):
    bot = make_bot(account)
    bot.save()
    with pytest.raises(ValidationError) as err:
        trade(bot, **{field: "-1"}).full_clean()
    assert "greater than or equal to 0" in err.value.message_dict[field][0]


@pytest.mark.parametrize("field", ["price", "amount"])
def test_non_numeric_amounts_are_refused(account, field):
    bot = make_bot(account)
    bot.save()
    with pytest.raises(ValidationError) as err:
        trade(bot, **{field: "abc"}).full_clean()
    assert "must be a decimal number" in err.value.message_dict[field][0]


def test_a_trade_is_stored_once_per_bot(account):
    bot = make_bot(account)
    bot.save()
    trade(bot).save()
    with pytest.raises(IntegrityError):
        trade(bot).save()


def test_chain_is_derived_from_the_connector(account):
    assert make_bot(account, connector="jupiter").chain == "solana"
    assert make_bot(account, connector="bitmart").chain == "evm"
