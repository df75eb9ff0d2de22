"""Issue 15 (High): a Hummingbot server entry must not become a way to send the bridge's secrets, or an exchange's
keys, to a URL of someone's choosing. A server's password variable is derived from its name, adding or repointing a
server is for superusers and audited, HUMMINGBOT_URL_ALLOWLIST refuses other targets, and an answer that is not one
of Hummingbot's own shapes is never echoed. A stranger's server on 127.0.0.1 records what it receives."""
import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from bots import services
from bots.hummingbot.client import get_client
from bots.hummingbot.errors import HummingbotError, HummingbotNotConfigured
from bots.models import BotEvent, HummingbotServer
from tests.conftest import SANDBOX_PASSWORD
from tests.listener import Listener

pytestmark = pytest.mark.django_db

BRIDGE_SECRETS = {"SECRET_KEY": "secret-key-of-the-bridge", "DATABASE_URL": "postgres://u:database-pw@db:5432/x",
                  "PATH": "/usr/bin:/bin"}


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.stop()


@pytest.fixture
def bridge_secrets(monkeypatch, two_servers):
    for name, value in BRIDGE_SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HUMMINGBOT_API_PASSWORD", SANDBOX_PASSWORD)
    return set(BRIDGE_SECRETS.values()) | {SANDBOX_PASSWORD}  # the default's and b's passwords


def add_server(client, **fields):
    return client.post(reverse("admin:bots_hummingbotserver_add"), {"username": "admin", "_save": "Save", **fields})


def change_server(client, server, **fields):
    data = {"url": server.url, "username": server.username, "_save": "Save", **fields}
    return client.post(reverse("admin:bots_hummingbotserver_change", args=[server.pk]), data)


def everything_that_calls_a_server(client):
    """Each path the issue saw sending the password: the server list, the scheduled sync, /health, the check."""
    client.get(reverse("admin:bots_hummingbotserver_changelist"))
    services.bots_sync_all()
    cache.clear()
    client.get("/health")
    try:
        call_command("check_hummingbot")
    except CommandError:
        pass  # the servers whose password variable is not set are reported; the others were called


def test_no_server_entry_anyone_can_make_sends_the_bridges_secrets_or_another_servers_password(
        bridge_secrets, listener, admin_client, panel, monkeypatch):
    monkeypatch.setenv("HUMMINGBOT_SERVER_STRANGER_PASSWORD", "the-strangers-own-password")
    for name in ["stranger", "SECRET_KEY", "DATABASE_URL", "PATH", "B", "b"]:
        for variable in ["SECRET_KEY", "DATABASE_URL", "PATH", "HUMMINGBOT_API_PASSWORD",
                         "HUMMINGBOT_SERVER_B_PASSWORD"]:
            add_server(admin_client, name=name, url=listener.url, password_env=variable)
            add_server(panel, name=f"{name}_desk", url=listener.url, password_env=variable)
    everything_that_calls_a_server(admin_client)

    assert listener.passwords, "the stranger's entry was called: the paths above do reach its URL"
    assert set(listener.passwords) == {"the-strangers-own-password"}
    assert not bridge_secrets & set(listener.passwords)
    assert not HummingbotServer.objects.filter(name__in=["B", "stranger_desk"]).exists()


def test_a_name_giving_another_servers_password_variable_is_refused_on_the_name(two_servers, admin_client, listener):
    for name in ["B", "b"]:
        response = add_server(admin_client, name=name, url=listener.url)
        assert response.status_code == 200 and "name" in response.context["adminform"].form.errors
    assert "HUMMINGBOT_SERVER_B_PASSWORD" in response.content.decode()
    HummingbotServer.objects.create(name="eu-2", url=listener.url)
    response = add_server(admin_client, name="EU_2", url=listener.url)
    assert "HUMMINGBOT_SERVER_EU_2_PASSWORD" in str(response.context["adminform"].form.errors["name"])
    assert listener.passwords == []


def test_a_non_superuser_gets_403_on_adding_or_repointing_a_server(two_servers, listener, panel, operator):
    default, b = two_servers
    assert operator.has_perm("bots.add_hummingbotserver") and operator.has_perm("bots.change_hummingbotserver")
    assert panel.get(reverse("admin:bots_hummingbotserver_add")).status_code == 403
    assert add_server(panel, name="stranger", url=listener.url).status_code == 403
    for server in (default, b):
        assert change_server(panel, server, url=listener.url).status_code == 403
        assert change_server(panel, server, username="someone").status_code == 403
    assert panel.post(reverse("admin:bots_hummingbotserver_delete", args=[b.pk]), {"post": "yes"}).status_code == 403

    assert list(HummingbotServer.objects.values_list("name", "url", "username")) == [
        ("b", b.url, "admin"), ("default", "", "")]
    assert panel.get(reverse("admin:bots_hummingbotserver_change", args=[b.pk])).status_code == 200  # still seen
    assert listener.paths == [] and not BotEvent.objects.filter(action__startswith="server").exists()


def test_forwarded_exchange_keys_stay_on_the_default_server_a_desk_user_tried_to_repoint(
        two_servers, listener, panel, hummingbot):
    default, _ = two_servers
    change_server(panel, default, url=listener.url)
    account = services.account_create(name="client_k")
    services.account_add_credentials(account=account, connector="bitmart", fields={
        "bitmart_api_key": "key-1234", "bitmart_secret_key": "secret-5678", "bitmart_memo": "memo"})
    assert listener.paths == []
    assert "bitmart" in hummingbot.state.accounts["client_k"]


def test_adding_repointing_and_removing_a_server_is_audited_with_old_and_new_url_and_who(
        two_servers, listener, admin_client):
    default, b = two_servers
    old_url = b.url
    add_server(admin_client, name="eu-2", url=listener.url)
    change_server(admin_client, b, url=listener.url + "/")
    change_server(admin_client, default, url=listener.url, username="hb")
    change_server(admin_client, b, url=listener.url)  # nothing changed: nothing to audit

    events = list(BotEvent.objects.filter(action__startswith="server").order_by("id"))
    assert [(e.action, e.actor, e.ok) for e in events] == [
        ("server_add", "admin", True), ("server_change", "admin", True), ("server_change", "admin", True)]
    assert f"eu-2: URL {listener.url}, username admin" in events[0].detail
    assert f"b: URL {old_url} → {listener.url}" in events[1].detail
    assert f"default: URL (HUMMINGBOT_API_URL) → {listener.url}; username (HUMMINGBOT_API_USERNAME) → hb" \
        in events[2].detail

    eu2 = HummingbotServer.objects.get(name="eu-2")
    admin_client.post(reverse("admin:bots_hummingbotserver_delete", args=[eu2.pk]), {"post": "yes"})
    assert not HummingbotServer.objects.filter(name="eu-2").exists()
    assert BotEvent.objects.filter(action="server_delete", actor="admin", detail__contains=listener.url).exists()


def test_the_admin_names_each_servers_password_variable_and_takes_none(two_servers, admin_client):
    _, b = two_servers
    page = admin_client.get(reverse("admin:bots_hummingbotserver_changelist")).content.decode()
    assert "HUMMINGBOT_SERVER_B_PASSWORD" in page and "HUMMINGBOT_API_PASSWORD" in page
    form = admin_client.get(reverse("admin:bots_hummingbotserver_add")).content.decode()
    assert 'name="password_env"' not in form and "HUMMINGBOT_API_PASSWORD" not in form
    assert "HUMMINGBOT_SERVER_EU_1_PASSWORD for eu-1" in form


@pytest.mark.parametrize("name, variable", [("eu-2", "HUMMINGBOT_SERVER_EU_2_PASSWORD"),
                                            ("Asia_1", "HUMMINGBOT_SERVER_ASIA_1_PASSWORD"),
                                            ("default", "HUMMINGBOT_API_PASSWORD")])
def test_a_servers_password_comes_from_the_variable_its_name_gives(name, variable, listener, monkeypatch):
    monkeypatch.setenv(variable, f"password-of-{name}")
    server = HummingbotServer.objects.update_or_create(name=name, defaults={"url": listener.url,
                                                                            "username": "admin"})[0]
    assert server.password_variable == variable
    get_client(server).check()
    assert set(listener.passwords) == {f"password-of-{name}"}


def test_an_unset_password_variable_sends_nothing_and_is_named(listener):
    server = HummingbotServer.objects.create(name="eu-3", url=listener.url, username="admin")
    with pytest.raises(HummingbotNotConfigured) as err:
        get_client(server).check()
    assert "HUMMINGBOT_SERVER_EU_3_PASSWORD" in err.value.message
    assert listener.paths == []


# --- HUMMINGBOT_URL_ALLOWLIST -------------------------------------------------------------------------------------


@pytest.mark.parametrize("allowlist", ["10.0.0.0/8", "hummingbot.internal, 192.168.0.0/16"])
def test_the_allowlist_refuses_another_target_in_the_form_naming_the_url(
        allowlist, settings, admin_client, listener, db):
    settings.HUMMINGBOT_URL_ALLOWLIST = [entry.strip() for entry in allowlist.split(",")]
    response = add_server(admin_client, name="eu-2", url=listener.url)
    errors = response.context["adminform"].form.errors
    assert "127.0.0.1" in str(errors["url"]) and "HUMMINGBOT_URL_ALLOWLIST" in str(errors["url"])
    assert not HummingbotServer.objects.filter(name="eu-2").exists()


@pytest.mark.parametrize("allowlist, host", [(["127.0.0.0/8"], "127.0.0.1"), (["10.0.0.0/8", "127.0.0.1"], "127.0.0.1"),
                                             (["localhost"], "localhost"), (["::1/128", "127.0.0.1/32"], "localhost")])
def test_the_allowlist_lets_listed_hosts_and_networks_through(allowlist, host, settings, listener, monkeypatch, db):
    settings.HUMMINGBOT_URL_ALLOWLIST = allowlist
    monkeypatch.setenv("HUMMINGBOT_SERVER_EU_2_PASSWORD", "pw-eu-2")
    server = services.server_save(server=HummingbotServer(name="eu-2", url=listener.url.replace("127.0.0.1", host),
                                                          username="admin"), user=superuser())
    get_client(server).check()
    assert set(listener.passwords) == {"pw-eu-2"}


def test_a_host_name_is_checked_by_the_addresses_it_resolves_to(settings, listener, db):
    settings.HUMMINGBOT_URL_ALLOWLIST = ["10.0.0.0/8", "localhost.example"]
    with pytest.raises(ValidationError) as err:
        services.server_save(server=HummingbotServer(name="eu-2", url=listener.url.replace("127.0.0.1", "localhost"),
                                                     username="admin"), user=superuser())
    assert "127.0.0.1" in str(err.value.message_dict["url"])
    assert not HummingbotServer.objects.filter(name="eu-2").exists()


def test_credentials_written_into_a_url_are_refused_naming_the_password_variable(admin_client, listener, db):
    response = add_server(admin_client, name="eu-2", url=listener.url.replace("//", "//admin:pw@"))
    assert "HUMMINGBOT_SERVER_EU_2_PASSWORD" in str(response.context["adminform"].form.errors["url"])


def test_the_service_refuses_a_non_superuser_whoever_calls_it(operator, listener, db):
    with pytest.raises(PermissionDenied):
        services.server_save(server=HummingbotServer(name="eu-2", url=listener.url, username="a"), user=operator)
    default = HummingbotServer.default()
    default.url = listener.url
    with pytest.raises(PermissionDenied):
        services.server_save(server=default, user=operator)
    assert HummingbotServer.default().url == ""


def test_a_row_edited_in_the_database_cannot_bypass_the_allowlist(two_servers, settings, listener, monkeypatch):
    settings.HUMMINGBOT_URL_ALLOWLIST = ["10.0.0.0/8"]
    _, b = two_servers
    HummingbotServer.objects.filter(pk=b.pk).update(url=listener.url)
    b.refresh_from_db()
    with pytest.raises(HummingbotNotConfigured) as err:
        get_client(b).check()
    assert "HUMMINGBOT_URL_ALLOWLIST" in err.value.message
    settings.HUMMINGBOT_API_URL = listener.url  # the environment's server is held to it too
    with pytest.raises(HummingbotNotConfigured):
        get_client(None).check()
    assert listener.paths == []


# --- what a stranger's answer may show ----------------------------------------------------------------------------


@pytest.mark.parametrize("answer", [
    (500, "text/html", "<html>internal-page secret-in-body</html>"),
    (404, "application/json", '{"error": "secret-in-body"}'),
    (200, "application/json", '{"service": "secret-in-body"}'),
    (200, "application/json", '["secret-in-body"]'),
])
def test_a_server_answering_something_else_is_an_unexpected_answer_never_echoed(
        answer, listener, monkeypatch, admin_client):
    monkeypatch.setenv("HUMMINGBOT_SERVER_STRANGER_PASSWORD", "pw")
    server = HummingbotServer.objects.create(name="stranger", url=listener.url, username="admin")
    listener.answers["/"] = answer
    with pytest.raises(HummingbotError) as err:
        get_client(server).check()
    assert "unexpected answer" in err.value.message
    assert "secret-in-body" not in err.value.message
    page = admin_client.get(reverse("admin:bots_hummingbotserver_changelist")).content.decode()
    assert "no: Hummingbot API: unexpected answer" in page and "secret-in-body" not in page


def superuser():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get_or_create(username="root", defaults={"is_superuser": True,
                                                                              "is_staff": True})[0]
