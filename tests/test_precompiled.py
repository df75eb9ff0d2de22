import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bots import precompiled
from bots.models import HummingbotServer, SyncState


def server_states(server_name):
    servers = HummingbotServer.objects.order_by("name")
    if server_name is not None:
        servers = servers.filter(name=server_name)
    return servers.values_list("name", "url")


def states_since(server_name):
    return SyncState.objects.filter(last_ok_at__gte=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)).values_list(
        "scope")


@pytest.mark.django_db
def test_rows_are_what_the_queryset_gives_for_every_server_and_for_one():
    HummingbotServer.objects.create(name="b", url="http://127.0.0.1:9/")
    HummingbotServer.default()
    for server_name in (None, "b", "default", "nobody"):
        assert precompiled.fetch_rows(server_states, server_name) == list(server_states(server_name))


@pytest.mark.django_db
def test_values_are_converted_as_the_queryset_converts_them():
    """SQLite hands datetimes over as text: the rows carry the same aware datetimes the ORM gives."""
    at = datetime.datetime(2026, 11, 29, 21, 0, 52, 465000, tzinfo=datetime.UTC)
    SyncState.objects.create(scope="default", last_attempt_at=at, last_ok_at=at)

    def states(server_name):
        return SyncState.objects.filter(scope=server_name).values_list("last_ok_at", "last_error")

    assert precompiled.fetch_rows(states, "default") == [(at, "")] == list(states("default"))


@pytest.mark.django_db
def test_the_sql_is_compiled_once_and_only_run_afterwards(monkeypatch):
    precompiled.fetch_rows(server_states, None)
    compiled = []
    compiler = type(HummingbotServer.objects.all().query.get_compiler("default"))
    as_sql = compiler.as_sql
    monkeypatch.setattr(compiler, "as_sql", lambda self, *args, **kwargs: compiled.append(1) or as_sql(self, *args, **kwargs))
    with CaptureQueriesContext(connection) as queries:
        precompiled.fetch_rows(server_states, None)
    assert compiled == [] and len(queries) == 1


def test_a_query_with_another_parameter_is_refused_rather_than_frozen_into_the_cache(db):
    with pytest.raises(ImproperlyConfigured, match="only the server's name may vary"):
        precompiled.fetch_rows(states_since, None)
