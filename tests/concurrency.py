"""Threads released together for race tests: each uses and closes its own database connection."""
import threading

from django.db import connection


def at_once(count, work):
    """Run `work()` in `count` threads released together; each thread closes its own connection."""
    barrier = threading.Barrier(count, timeout=120)  # only a hang guard: a broken barrier is an error below
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(work())
        except Exception as exc:  # surfaced by the caller
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors
