"""django-q2 tasks through the real ORM broker, worker and monitor (as in qcluster), in this process."""
from multiprocessing import Queue, Value


def use_the_orm_queue(monkeypatch) -> None:
    """django-q2's sync mode re-raises a task's error instead of recording it, so it can't show failures."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", False)
    # A cluster process closes stale connections between tasks; here that would close the test's transaction.
    for module in ("django_q.worker", "django_q.monitor"):
        monkeypatch.setattr(f"{module}.close_old_django_connections", lambda: None)


def run_queued_tasks() -> None:
    """Dequeue every task, run it in a worker, record its result, and again for what those tasks queued (the
    scheduled syncs fan out one task per server); the queue is empty afterwards."""
    from django_q.brokers import get_broker
    from django_q.monitor import monitor
    from django_q.signing import SignedPackage
    from django_q.worker import worker

    broker = get_broker()
    while broker.queue_size():
        tasks, results = Queue(), Queue()
        while queued := broker.dequeue():  # `bulk` (1) at a time
            for ack_id, pack in queued:
                task = SignedPackage.loads(pack)
                task["ack_id"] = ack_id
                tasks.put(task)
        tasks.put("STOP")
        worker(tasks, results, Value("f", -1))
        results.put("STOP")
        monitor(results, broker)
