"""`GET /health` (details, as staff see them) and `manage.py check_hummingbot` tell down from wrong password, and never print secrets."""
import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def test_health_is_200_when_database_and_hummingbot_answer(hummingbot, admin_client):
    response = admin_client.get("/health")
    assert response.status_code == 200
    assert response.json()["database"] == {"ok": True}
    assert response.json()["hummingbot"]["ok"] is True


def test_health_is_503_when_hummingbot_is_down(settings, admin_client):
    settings.HUMMINGBOT_API_URL = "http://127.0.0.1:9"  # discard port: nothing listens
    response = admin_client.get("/health")
    assert response.status_code == 503
    assert response.json()["hummingbot"]["code"] == "hummingbot_unreachable"


def test_check_hummingbot_reports_reachable_and_bot_count(hummingbot, capsys):
    hummingbot.state.spawn_bots(2)
    call_command("check_hummingbot")
    out = capsys.readouterr().out
    assert "OK: reachable, auth ok" in out and "[SANDBOX]" in out and "2 bot(s) active" in out
    assert "admin" in out and hummingbot_password(hummingbot) not in out


def hummingbot_password(_):
    from django.conf import settings

    return settings.HUMMINGBOT_API_PASSWORD


def test_check_hummingbot_with_wrong_password_fails_clearly(hummingbot, settings, capsys):
    settings.HUMMINGBOT_API_PASSWORD = "wrong-pass-xyz"
    with pytest.raises(CommandError) as err:
        call_command("check_hummingbot")
    assert "check HUMMINGBOT_API_USERNAME/PASSWORD" in str(err.value)
    assert "wrong-pass-xyz" not in str(err.value) + capsys.readouterr().out


def test_check_hummingbot_with_dead_url_fails_clearly(settings, db):
    settings.HUMMINGBOT_API_URL = "http://127.0.0.1:9"
    with pytest.raises(CommandError) as err:
        call_command("check_hummingbot")
    assert "Cannot reach the Hummingbot API at http://127.0.0.1:9" in str(err.value)
