"""Management commands are thin: they call one service and print what a person needs."""
import io
import re

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


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_sync_bots_names_the_server_with_counts_and_rate(hummingbot, capsys):
    hummingbot.state.spawn_bots(2)
    call_command("sync_bots")
    out = capsys.readouterr().out
    assert re.fullmatch(rf"default \({hummingbot.url}\): seen 0, changed 0, adopted 2, vanished 0, archived 0, reattached 0 "
                        r"in \d+\.\d s, [\d,]+ bots/s\n", out)


def test_sync_bots_on_a_terminal_shows_the_server_being_read_then_the_counts(hummingbot):
    hummingbot.state.spawn_bots(2)
    terminal = Terminal()
    call_command("sync_bots", stdout=terminal)
    out = terminal.getvalue()
    assert out.startswith(f"\rreading bot statuses from default ({hummingbot.url})")
    assert out.endswith("\n") and "adopted 2" in out.rsplit("\r", 1)[1]


def test_sync_bots_never_prints_credentials_written_into_the_server_url(hummingbot, settings, capsys):
    settings.HUMMINGBOT_API_URL = hummingbot.url.replace("http://", "http://admin:url-secret-7@")
    call_command("sync_bots")
    out = capsys.readouterr().out
    assert "url-secret-7" not in out and out.startswith(f"default ({hummingbot.url}): seen")


def test_sync_trades_off_a_terminal_prints_one_line_per_bot_and_a_summary(hummingbot, capsys):
    quiet, busy = hummingbot.state.spawn_bots(2)
    hummingbot.state.inject_fills(busy, 3)
    call_command("sync_bots")
    names = {bot.hummingbot_name: bot.name for bot in Bot.objects.all()}
    capsys.readouterr()
    call_command("sync_trades")
    out = capsys.readouterr().out
    assert "\r" not in out
    lines = out.splitlines()
    assert len(lines) == 3
    expected = {rf"\[\d/2\] {names[quiet]}: new 0, known 0, [\d,]+ rows/s", rf"\[\d/2\] {names[busy]}: new 3, known 0, [\d,]+ rows/s"}
    assert all(any(re.fullmatch(pattern, line) for line in lines[:2]) for pattern in expected)
    assert re.fullmatch(r"bots 2: new 3, already known 0, failed bots 0 in \d+\.\d s, [\d,]+ rows/s", lines[2])


def test_sync_trades_on_a_terminal_updates_one_line_with_bots_done_and_rate(hummingbot):
    for name in hummingbot.state.spawn_bots(2):
        hummingbot.state.inject_fills(name, 5)
    call_command("sync_bots")
    terminal = Terminal()
    call_command("sync_trades", stdout=terminal)
    updates = terminal.getvalue().split("\r")[1:]
    assert len(updates) == 3
    for done, update in enumerate(updates[:2], start=1):
        assert re.fullmatch(rf"bots {done}/2 \[[\w-]+: new 5, known 0, [\d,]+ rows/s\] {done * 5} rows, [\d,]+ rows/s\x1b\[K",
                            update)
    assert updates[-1].startswith("bots 2: new 10, already known 0, failed bots 0") and updates[-1].endswith("\n")


def test_sync_bots_when_hummingbot_is_down_changes_nothing_and_exits_non_zero(settings, db):
    settings.HUMMINGBOT_API_URL = "http://127.0.0.1:9"
    with pytest.raises(CommandError, match="Sync failed, nothing changed: default: Cannot reach the Hummingbot API"):
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
