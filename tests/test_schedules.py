"""django-q2 with the ORM broker: schedules created idempotently, task runs recorded, failures visible."""
import pytest
from django.conf import settings
from django.core.management import call_command
from django_q.models import Failure, Schedule, Success
from django_q.tasks import async_task as _async_task

from bots.models import Bot
from tests.orm_queue import run_queued_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def through_the_orm_queue(orm_queue):
    """Tasks go through the real ORM broker, worker and monitor (as in qcluster), in this process."""


def async_task(func):
    _async_task(func)
    run_queued_tasks()


def test_the_orm_broker_is_configured_not_redis():
    assert settings.Q_CLUSTER["orm"] == "default"
    from django_q.brokers import get_broker

    assert get_broker().__class__.__name__ == "ORM"


def test_setup_schedules_is_idempotent(capsys):
    call_command("setup_schedules")
    call_command("setup_schedules")
    schedules = Schedule.objects.order_by("name")
    assert [(s.func, s.schedule_type, s.minutes, s.repeats) for s in schedules] == [
        ("bots.tasks.alert_notices", Schedule.MINUTES, 1, -1),
        ("bots.tasks.send_daily_report", Schedule.DAILY, None, -1),
        ("bots.tasks.purge_throttle_counts", Schedule.MINUTES, 60, -1),
        ("bots.tasks.sync_bots", Schedule.MINUTES, 1, -1), ("bots.tasks.sync_trades", Schedule.MINUTES, 1, -1),
        ("bots.tasks.thin_performance_samples", Schedule.MINUTES, 60, -1)]
    assert "updated" in capsys.readouterr().out


def test_a_failed_run_is_recorded_and_the_next_run_still_works(hummingbot):
    hummingbot.state.set_fault("GET", "/bot-orchestration/status", "refuse", times=2)  # one try + one retry
    async_task("bots.tasks.sync_bots")
    failure = Failure.objects.get()
    assert "Cannot reach the Hummingbot API" in failure.result
    hummingbot.state.spawn_bots(1)
    async_task("bots.tasks.sync_bots")
    assert Success.objects.get(func="bots.tasks.sync_server_bots").result["adopted"] == 1
    assert Bot.objects.count() == 1


def test_trade_sync_task_fails_visibly_when_a_bot_could_not_be_read(hummingbot):
    name = hummingbot.state.spawn_bots(1)[0]
    async_task("bots.tasks.sync_bots")
    hummingbot.state.set_fault("GET", f"/bot-orchestration/{name}/history", "500")
    async_task("bots.tasks.sync_trades")
    assert "not synced" in Failure.objects.get(func="bots.tasks.sync_server_trades").result


def test_the_status_task_syncs_every_configured_seconds_within_its_minute(settings, monkeypatch):
    from bots import tasks

    settings.BOTS_SYNC_SECONDS = 20
    sleeps, syncs = [], []
    monkeypatch.setattr(tasks.time, "sleep", sleeps.append)
    monkeypatch.setattr(tasks.services, "bots_sync", lambda server: syncs.append(1) or {"seen": len(syncs)})
    assert tasks.sync_server_bots("default") == {"seen": 3}
    assert sleeps == [20, 20]


def test_a_failed_read_does_not_end_the_minute_and_a_server_back_is_seen_at_the_next_round(settings, monkeypatch):
    from bots import tasks
    from bots.hummingbot.errors import HummingbotUnreachable

    settings.BOTS_SYNC_SECONDS = 20
    answers = [HummingbotUnreachable("down"), {"seen": 2}, HummingbotUnreachable("down again")]
    monkeypatch.setattr(tasks.time, "sleep", lambda seconds: None)

    def sync(server):
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(tasks.services, "bots_sync", sync)
    with pytest.raises(HummingbotUnreachable, match="down again"):  # the run fails when its last read did
        tasks.sync_server_bots("default")
    assert answers == []
    answers[:] = [HummingbotUnreachable("down"), {"seen": 1}, {"seen": 1}]
    assert tasks.sync_server_bots("default") == {"seen": 1}


def test_the_hourly_purge_deletes_ended_throttle_windows_and_keeps_current_ones():
    import time

    from bots.models import ThrottleCount

    now = time.time()
    ThrottleCount.objects.create(key="throttle_anon_203.0.113.9", window_ends_at=now - 3600, count=120)
    ThrottleCount.objects.create(key="throttle_reads_7", window_ends_at=now + 30, count=4)
    async_task("bots.tasks.purge_throttle_counts")
    assert list(ThrottleCount.objects.values_list("key", flat=True)) == ["throttle_reads_7"]
    assert Success.objects.get().result == 1
