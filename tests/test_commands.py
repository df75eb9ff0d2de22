"""Management commands are thin: they call one service and print what a person needs."""
import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from bots.models import Bot

pytestmark = pytest.mark.django_db


def test_sync_bots_prints_counts(hummingbot, capsys):
    hummingbot.state.spawn_bots(2)
    call_command("sync_bots")
    assert "adopted 2" in capsys.readouterr().out
    assert Bot.objects.count() == 2


def test_sync_bots_when_hummingbot_is_down_changes_nothing_and_exits_non_zero(settings, db):
    settings.HUMMINGBOT_API_URL = "http://127.0.0.1:9"
    with pytest.raises(CommandError, match="Sync failed, nothing changed: Cannot reach the Hummingbot API"):
        call_command("sync_bots")


def test_sync_trades_reports_failed_bots_and_exits_non_zero(hummingbot, capsys):
    name = hummingbot.state.spawn_bots(1)[0]
    call_command("sync_bots")
    hummingbot.state.set_fault("GET", f"/bot-orchestration/{name}/history", "500")
    with pytest.raises(CommandError, match="some bots were not synced"):
        call_command("sync_trades")
    captured = capsys.readouterr()
    assert "failed bots 1" in captured.out and "HTTP 500" in captured.err


def test_sync_trades_refuses_a_bad_since(db):
    with pytest.raises(CommandError, match="--since must be a date or datetime"):
        call_command("sync_trades", "--since", "last tuesday")


def test_demo_admin_prints_a_generated_password_once(capsys):
    call_command("demo_admin")
    first = capsys.readouterr().out
    password = first.split("admin / ")[1].split()[0]
    assert get_user_model().objects.get(username="admin").check_password(password)
    call_command("demo_admin")
    assert password not in capsys.readouterr().out
