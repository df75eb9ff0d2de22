import pytest

SANDBOX_PASSWORD = "sandbox-pw-93"


class FakeClock:
    def __init__(self, start=1_795_632_000.0):
        self.now = start

    def __call__(self):
        return self.now


def started_sandbox(seed=7, archive_delay=40.0, mqtt_linger=5.0):
    """A Hummingbot API sandbox on a random 127.0.0.1 port, on a clock the test moves (`sb.advance`)."""
    from sandbox import SandboxConfig, start_sandbox

    clock = FakeClock()
    sb = start_sandbox(SandboxConfig(port=0, username="admin", password=SANDBOX_PASSWORD, seed=seed,
                                     archive_delay=archive_delay, mqtt_linger=mqtt_linger, fill_interval=0.0,
                                     log_requests=False, time_zone="UTC"))
    sb.state.clock = clock

    def advance(seconds):
        clock.now += seconds

    sb.advance = advance
    return sb


@pytest.fixture
def sandbox():
    """The Hummingbot API sandbox the default server points at."""
    sb = started_sandbox()
    yield sb
    sb.stop()


@pytest.fixture
def receiver():
    """An HTTP receiver on 127.0.0.1 for Apprise's json:// (tests/alert_receiver.py): what the channels got."""
    from tests.alert_receiver import JsonReceiver

    received = JsonReceiver()
    yield received
    received.stop()


@pytest.fixture
def hummingbot_b():
    """A second, independent sandbox: the Hummingbot behind server "b" (see `two_servers`)."""
    sb = started_sandbox(seed=8)
    yield sb
    sb.stop()


@pytest.fixture
def two_servers(hummingbot, hummingbot_b, monkeypatch):
    """The default server on `hummingbot` and server "b" on `hummingbot_b`, its password in the variable its name
    gives, HUMMINGBOT_SERVER_B_PASSWORD."""
    from bots.models import HummingbotServer

    monkeypatch.setenv("HUMMINGBOT_SERVER_B_PASSWORD", SANDBOX_PASSWORD)
    default = HummingbotServer.objects.get(name="default")
    b = HummingbotServer.objects.create(name="b", url=hummingbot_b.url, username="admin")
    return default, b


@pytest.fixture
def hummingbot(sandbox, settings):
    """Point the bridge at the sandbox."""
    settings.HUMMINGBOT_API_URL = sandbox.url
    settings.HUMMINGBOT_API_USERNAME = "admin"
    settings.HUMMINGBOT_API_PASSWORD = SANDBOX_PASSWORD
    settings.VANISHED_AFTER_SECONDS = 60
    settings.HUMMINGBOT_TIME_ZONE = "UTC"
    return sandbox


@pytest.fixture
def shared_clock(hummingbot, monkeypatch):
    """The bridge reads the sandbox's fake clock too (django.utils.timezone.now): `hummingbot.advance` moves both."""
    from datetime import datetime, timezone

    monkeypatch.setattr("django.utils.timezone.now", lambda: datetime.fromtimestamp(hummingbot.state.now(), tz=timezone.utc))
    return hummingbot


@pytest.fixture
def operator(django_user_model):
    """A desk staff user with every bots permission (not a superuser: permissions are really checked)."""
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("desk", password="pw-desk-123", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="bots"))
    return user


@pytest.fixture
def api(operator):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(operator)
    return client


@pytest.fixture
def account(db):
    from bots.models import Account

    return Account.objects.create(name="client_sharp", label="Sharp")


@pytest.fixture(autouse=True)
def fresh_throttle_counts():
    """The cache (the /health result) starts empty in each test; throttle counts are rows, rolled back."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def controllers_read_back_again():
    """Each test is a fresh process for the controller checks: a sandbox port may be reused by a later test."""
    from bots.services import controllers

    controllers.forget_checks()


def give_keys(sandbox, account: str, *connectors: str) -> None:
    """Keys for `connectors` on a sandbox account, as the keys form would send them (their values are not kept)."""
    from sandbox.config import _config_map

    for connector in connectors:
        sandbox.state.add_credential(account, connector, {name: "k" for name in _config_map(connector)})


@pytest.fixture
def upstream_account(hummingbot, account):
    """`client_sharp`, in our database and in the sandbox Hummingbot with keys for bitmart (deploys need both)."""
    from bots.hummingbot.client import get_client

    get_client().add_account(account.name)
    give_keys(hummingbot, account.name, "bitmart")
    return account


@pytest.fixture
def upstream_calls(monkeypatch):
    """Every request the bridge sends to Hummingbot, as (method, path), counted at the client's one HTTP seam."""
    from bots.hummingbot.client import HummingbotClient

    calls, send = [], HummingbotClient._send

    def counted(self, method, path, **kwargs):
        calls.append((method, path))
        return send(self, method, path, **kwargs)

    monkeypatch.setattr(HummingbotClient, "_send", counted)
    return calls


@pytest.fixture
def orm_queue(monkeypatch):
    """django-q2 through the real ORM broker; returns the function that runs what is queued."""
    from tests.orm_queue import run_queued_tasks, use_the_orm_queue

    use_the_orm_queue(monkeypatch)
    return run_queued_tasks


@pytest.fixture
def panel(operator):
    """The admin, logged in as the desk operator."""
    from django.test import Client

    client = Client()
    client.force_login(operator)
    return client
