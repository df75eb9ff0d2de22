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
