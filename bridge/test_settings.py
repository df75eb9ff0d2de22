"""Settings for the test suite: the real settings, loaded from test-only values set before they load."""
import os
import tempfile
from pathlib import Path

# Forced, not defaults: a variable in the shell (or a local .env) must never change a test's outcome.
# DATABASE_URL alone comes from the environment: it picks SQLite or PostgreSQL.
os.environ.update({
    "DEBUG": "false",
    "SECRET_KEY": "test-only-secret-key",
    "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
    "HUMMINGBOT_API_URL": "http://hummingbot.test:8000",
    "HUMMINGBOT_API_USERNAME": "admin",
    "HUMMINGBOT_API_PASSWORD": "s3cret-hb-pass",
    "HUMMINGBOT_TIMEOUT": "2",
    "HUMMINGBOT_RETRIES": "1",
    "HUMMINGBOT_SANDBOX": "false",
    "Q_SYNC": "1",
    "BOTS_SYNC_SECONDS": "60",  # one sync per task run
    "TRADES_SYNC_MINUTES": "1",
    "VANISHED_AFTER_MISSES": "3",
    "WRITE_THROTTLE_RATE": "60/min",
    "LOG_LEVEL": "INFO",
})

from bridge.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, as deployed, not SQLite's shared-cache in-memory database (whose table locks no busy
    # timeout waits for): the race tests need the locking a real desk gets. One file per run.
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(Path(tempfile.gettempdir()) / f"trading-bridge-test-{os.getpid()}.sqlite3")
    }
