"""Shared start-up for the benchmarks: a fresh scratch database and a sandbox.

The database comes from BENCH_DATABASE_URL (never DATABASE_URL, so a benchmark can't touch real data):
SQLite in a temporary folder by default, or a PostgreSQL database that is dropped and created anew.
"""
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def django_with_scratch_db() -> str:
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    if url.startswith("postgres"):
        _recreate_postgres_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["ALLOWED_HOSTS"] = "testserver"  # the in-process test client's host
    os.environ["SECURE_SSL_REDIRECT"] = "false"  # the in-process client speaks plain http
    # A benchmark measures the work, not the throttles that guard it (one user polls thousands of times).
    for scope in ("ANON", "READ", "WRITE"):
        os.environ[f"{scope}_THROTTLE_RATE"] = "1000000/min"
    os.environ["DJANGO_SETTINGS_MODULE"] = "bridge.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    return connection.vendor


def _recreate_postgres_database(url: str) -> None:
    import environ
    import psycopg

    config = environ.Env.db_url_config(url)
    admin = psycopg.connect(host=config["HOST"], port=config["PORT"] or 5432, user=config["USER"],
                            password=config["PASSWORD"] or None, dbname="postgres", autocommit=True)
    name = psycopg.sql.Identifier(config["NAME"])
    admin.execute(psycopg.sql.SQL("DROP DATABASE IF EXISTS {}").format(name))
    admin.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(name))
    admin.close()


SANDBOX_USER, SANDBOX_PASSWORD = "admin", "bench-pass"


def start_sandbox_process(prepare, **config):
    """The sandbox in a child process, apart from the bridge as the real upstream is, so its work does not
    share our interpreter lock. `prepare(state)` runs in the child before it serves (spawn bots, add fills).
    Call before django_with_scratch_db (no database connection is forked). Returns (url, stop)."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    ours, theirs = context.Pipe()
    child = context.Process(target=_serve_sandbox, args=(theirs, prepare, config), daemon=True)
    child.start()
    url = ours.recv()

    def stop():
        ours.send("stop")
        child.join(10)

    return url, stop


def _serve_sandbox(pipe, prepare, config):
    from sandbox import SandboxConfig, start_sandbox

    sandbox = start_sandbox(SandboxConfig(port=0, username=SANDBOX_USER, password=SANDBOX_PASSWORD, log_requests=False, **config))
    prepare(sandbox.state)
    pipe.send(sandbox.url)
    try:
        pipe.recv()  # "stop", or EOF when the bench is gone
    except EOFError:
        pass
    sandbox.stop()


def timed(run):
    """run()'s result, the wall seconds it took and this process's CPU seconds (the bridge's side only)."""
    start, cpu = time.perf_counter(), time.process_time()
    result = run()
    return result, time.perf_counter() - start, time.process_time() - cpu


def point_django_at(url: str) -> None:
    from django.conf import settings

    settings.HUMMINGBOT_API_URL = url
    settings.HUMMINGBOT_API_USERNAME = SANDBOX_USER
    settings.HUMMINGBOT_API_PASSWORD = SANDBOX_PASSWORD
    settings.HUMMINGBOT_TIMEOUT = 60
