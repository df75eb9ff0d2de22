"""Login and API abuse: the admin login locks out; API throttles count in the database every web worker shares."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.test import APIClient

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db


def test_forty_wrong_passwords_lock_the_admin_login_even_for_the_right_one(client, operator):
    for _ in range(40):
        client.post("/admin/login/", {"username": "desk", "password": "guess", "next": "/admin/"})
    right = client.post("/admin/login/", {"username": "desk", "password": "pw-desk-123", "next": "/admin/"})
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_few_wrong_passwords_do_not_lock_the_desk_out(client, operator):
    client.post("/admin/login/", {"username": "desk", "password": "typo", "next": "/admin/"})
    right = client.post("/admin/login/", {"username": "desk", "password": "pw-desk-123", "next": "/admin/"})
    assert right.status_code == 302 and client.session["_auth_user_id"] == str(operator.pk)


def test_reads_are_throttled_per_user_with_a_generous_rate(api, monkeypatch):
    from bots.api.throttles import ReadThrottle

    monkeypatch.setattr(ReadThrottle, "THROTTLE_RATES", {"reads": "3/min"})
    assert [api.get("/accounts").status_code for _ in range(4)] == [200, 200, 200, 429]


def test_anonymous_callers_are_throttled(hummingbot, monkeypatch):
    from bots.api.throttles import AnonThrottle

    monkeypatch.setattr(AnonThrottle, "THROTTLE_RATES", {"anon": "2/min"})
    client = APIClient()
    statuses = [client.get("/health").status_code for _ in range(3)]
    assert statuses[-1] == 429


def test_redis_is_the_shared_cache_when_redis_url_is_set():
    code = "import bridge.settings as s; print(s.CACHES['default']['BACKEND'], s.CACHES['default']['LOCATION'])"
    env = {"PATH": os.environ["PATH"], "SECRET_KEY": "k", "REDIS_URL": "redis://cache.internal:6379/0"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True).stdout
    assert out.split() == ["django.core.cache.backends.redis.RedisCache", "redis://cache.internal:6379/0"]


COUNT_ONE_WRITE = """
import django; django.setup()
from django.contrib.auth.models import User
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from bots.api.throttles import WriteThrottle
WriteThrottle.timer = lambda self: 630.0  # both processes inside one window, whatever the wall clock says
request = Request(APIRequestFactory().post("/bots/create"))
request.user = User(pk=7, username="desk")
print("allowed" if WriteThrottle().allow_request(request, None) else "refused")
"""


def test_throttle_counts_are_shared_by_two_worker_processes(tmp_path):
    """Two processes stand for two gunicorn workers: the second sees the first one's writes."""
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "DJANGO_SETTINGS_MODULE": "bridge.settings",
           "SECRET_KEY": "k", "DATABASE_URL": f"sqlite:///{tmp_path / 'shared.sqlite3'}",
           "WRITE_THROTTLE_RATE": "2/min"}
    migrate = subprocess.run([sys.executable, "manage.py", "migrate", "--no-input"], cwd=ROOT, env=env,
                             capture_output=True, text=True)
    assert migrate.returncode == 0, migrate.stderr

    def worker_writes(times):
        script = COUNT_ONE_WRITE.replace("print(", f"for _ in range({times}): print(") if times > 1 else COUNT_ONE_WRITE
        result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        return result.stdout.split()

    assert worker_writes(2) == ["allowed", "allowed"]
    assert worker_writes(1) == ["refused"]


def _read(user_pk=7):
    from django.contrib.auth.models import User
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    request = Request(APIRequestFactory().get("/bots"))
    request.user = User(pk=user_pk, username="desk")
    return request


def test_a_counted_read_costs_one_statement_once_its_window_is_open(django_assert_num_queries, settings):
    from bots.api.throttles import ReadThrottle

    from django.core.management import call_command

    # Production's shared cache when REDIS_URL is unset, which the throttles counted in before.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "bridge_cache"}}
    call_command("createcachetable")

    assert ReadThrottle().allow_request(_read(), None)
    with django_assert_num_queries(1):
        assert ReadThrottle().allow_request(_read(), None)


def test_a_count_never_makes_a_surrounding_transactions_commit_lossy():
    from django.db import connection, transaction

    from bots.api.throttles import ReadThrottle

    with transaction.atomic(), connection.cursor() as cursor:
        assert ReadThrottle().allow_request(_read(), None)
        if connection.vendor == "postgresql":
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone() == ("on",)


def test_a_refused_caller_is_let_in_again_when_the_next_window_opens(monkeypatch):
    from bots.api.throttles import WriteThrottle

    monkeypatch.setattr(WriteThrottle, "THROTTLE_RATES", {"writes": "2/min"})
    clock = [600.0 + 50]  # 10 s before the minute's window closes
    monkeypatch.setattr(WriteThrottle, "timer", lambda self: clock[0])
    write = _read()
    write._request.method = "POST"

    throttle = WriteThrottle()
    assert [throttle.allow_request(write, None) for _ in range(3)] == [True, True, False]
    assert throttle.wait() == 10
    clock[0] += 10
    assert WriteThrottle().allow_request(write, None)
    assert WriteThrottle().allow_request(_read(user_pk=8), None)  # another caller counts apart


def test_with_redis_the_counts_are_kept_in_the_shared_cache_not_the_database(api, monkeypatch, settings,
                                                                              django_assert_num_queries):
    """REDIS_URL set: the cache every worker shares counts (one atomic INCR); no database statement per request."""
    from bots.api.throttles import ReadThrottle
    from bots.models import ThrottleCount

    settings.REDIS_URL = "redis://cache.internal:6379/0"  # the test cache stands in for that Redis
    monkeypatch.setattr(ReadThrottle, "THROTTLE_RATES", {"reads": "3/min"})
    monkeypatch.setattr(ReadThrottle, "timer", lambda self: 630.0)  # one window, whatever the wall clock says
    with django_assert_num_queries(0):
        assert ReadThrottle().allow_request(_read_request(), None)
    assert [ReadThrottle().allow_request(_read_request(), None) for _ in range(3)] == [True, True, False]
    assert not ThrottleCount.objects.exists()


def _read_request():
    from django.contrib.auth.models import User
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    request = Request(APIRequestFactory().get("/bots"))
    request.user = User(pk=7, username="desk")
    return request


# --- Who is calling (issue 15): the lockout and the throttles key by the same client address ---
PROXY = "10.0.0.1"


@pytest.fixture
def behind_one_proxy(settings):
    """The documented Railway setup: one proxy in front, every request arrives from its address."""
    settings.TRUSTED_PROXY_COUNT = 1


def log_in(password, *, client_ip, made_up=None):
    """The admin login form, through the proxy: it appends the address it saw to what the client sent."""
    from django.test import Client

    client = Client()
    forwarded = f"{made_up}, {client_ip}" if made_up else client_ip
    response = client.post("/admin/login/", {"username": "desk", "password": password, "next": "/admin/"},
                           REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)
    return response.status_code, client.session.get("_auth_user_id")


def test_failures_from_many_addresses_do_not_lock_out_the_desk_logging_in_from_another(behind_one_proxy, operator):
    for i in range(12):
        assert log_in("guess", client_ip=f"203.0.113.{i + 1}")[0] == 200  # the form again, with its error
    assert log_in("pw-desk-123", client_ip="198.51.100.7") == (302, str(operator.pk))


def test_failures_from_one_address_lock_that_address_out_whatever_it_writes_in_front(behind_one_proxy, operator):
    for i in range(12):
        log_in("guess", client_ip="203.0.113.66", made_up=f"192.0.2.{i + 1}")
    assert log_in("pw-desk-123", client_ip="203.0.113.66", made_up="192.0.2.200") == (429, None)
    assert log_in("pw-desk-123", client_ip="198.51.100.7") == (302, str(operator.pk))


def test_failures_spread_over_one_ipv6_64_lock_that_64_out(behind_one_proxy, operator):
    for i in range(12):
        log_in("guess", client_ip=f"2001:db8:1:2::{i + 1:x}")
    assert log_in("pw-desk-123", client_ip="2001:db8:1:2:ffff::1") == (429, None)
    assert log_in("pw-desk-123", client_ip="2001:db8:1:3::1") == (302, str(operator.pk))


@pytest.fixture
def anon_rate(monkeypatch, hummingbot):
    """/health is the open endpoint the anonymous throttle counts; one window whatever the wall clock says."""
    from bots.api.throttles import AnonThrottle

    monkeypatch.setattr(AnonThrottle, "timer", lambda self: 630.0)

    def set_rate(rate):
        monkeypatch.setattr(AnonThrottle, "THROTTLE_RATES", {"anon": rate})
    return set_rate


def probe(remote=PROXY, forwarded=None):
    meta = {"REMOTE_ADDR": remote} | ({"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {})
    return APIClient().get("/health", **meta).status_code


def test_the_anonymous_throttle_counts_the_client_behind_the_proxy_not_the_proxy(behind_one_proxy, anon_rate):
    anon_rate("2/min")
    assert [probe(forwarded="203.0.113.5") for _ in range(3)] == [200, 200, 429]
    assert probe(forwarded="198.51.100.7") == 200  # another client through the same proxy counts apart


def test_the_anonymous_throttle_counts_an_ipv6_64_as_one_caller(anon_rate):
    anon_rate("2/min")
    assert [probe(remote=f"2001:db8:1:2::{i + 1}") for i in range(3)] == [200, 200, 429]
    assert probe(remote="2001:db8:1:3::1") == 200


def test_made_up_forwarded_for_sent_straight_to_the_app_counts_as_one_caller(behind_one_proxy, anon_rate, settings):
    """TRUSTED_PROXY_IPS set: a caller reaching the app directly cannot pick its own address."""
    from bots.models import ThrottleCount
    from bridge.client_address import proxy_networks

    settings.TRUSTED_PROXY_IPS = proxy_networks(["10.0.0.0/8"])
    anon_rate("3/min")
    statuses = [probe(remote="198.51.100.9", forwarded=f"203.0.{i // 250}.{i % 250 + 1}") for i in range(300)]
    assert statuses == [200] * 3 + [429] * 297
    assert list(ThrottleCount.objects.values_list("key", flat=True)) == ["throttle_anon_198.51.100.9"]


def test_a_flood_of_made_up_addresses_adds_a_bounded_number_of_rows(behind_one_proxy, anon_rate, monkeypatch):
    """No TRUSTED_PROXY_IPS and the app reachable directly: every made-up address looks like a new caller. Past
    the cap they share one count, so the flood gets one caller's rate and adds one row."""
    from bots.api.throttles import AnonThrottle
    from bots.models import ThrottleCount

    monkeypatch.setattr(AnonThrottle, "max_callers", 5)
    anon_rate("2/min")
    assert probe(remote="127.0.0.1") == 200  # the container's own probe, known before the flood
    statuses = [probe(remote="198.51.100.9", forwarded=f"203.0.{i // 250}.{i % 250 + 1}") for i in range(300)]
    assert statuses.count(200) == 4 + 2  # four fresh callers fill the cap, then the shared count's two
    assert ThrottleCount.objects.count() == 5 + 1
    assert probe(remote="127.0.0.1") == 200  # a caller already counted keeps its own count
    assert probe(forwarded="203.0.0.1") == 200  # and so does one of the first made-up ones


@pytest.mark.django_db(transaction=True)
def test_the_cap_holds_for_counts_made_outside_a_transaction(monkeypatch):
    """Outside a transaction PostgreSQL counts with its statement that does not wait for the disk: capped alike."""
    from django.contrib.auth.models import AnonymousUser
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from bots.api.throttles import AnonThrottle
    from bots.models import ThrottleCount

    monkeypatch.setattr(AnonThrottle, "max_callers", 2)
    monkeypatch.setattr(AnonThrottle, "THROTTLE_RATES", {"anon": "1/min"})
    monkeypatch.setattr(AnonThrottle, "timer", lambda self: 630.0)

    def from_address(i):
        request = Request(APIRequestFactory().get("/health", REMOTE_ADDR=f"198.51.100.{i}"))
        request.user = AnonymousUser()
        return request

    assert [AnonThrottle().allow_request(from_address(i), None) for i in range(5)] == [True] * 3 + [False] * 2
    assert AnonThrottle().allow_request(from_address(0), None) is False  # its own count, spent
    assert set(ThrottleCount.objects.values_list("key", flat=True)) == {
        "throttle_anon_198.51.100.0", "throttle_anon_198.51.100.1", "throttle_anon_past-the-cap"}
