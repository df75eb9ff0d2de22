"""Settings for the test suite: the real settings plus test-only defaults set before they load."""
import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
os.environ.setdefault("STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage")
os.environ.setdefault("HUMMINGBOT_API_URL", "http://hummingbot.test:8000")
os.environ.setdefault("HUMMINGBOT_API_USERNAME", "admin")
os.environ.setdefault("HUMMINGBOT_API_PASSWORD", "s3cret-hb-pass")
os.environ.setdefault("HUMMINGBOT_TIMEOUT", "2")
os.environ.setdefault("Q_SYNC", "1")
os.environ.setdefault("BOTS_SYNC_SECONDS", "60")  # one sync per task run
# The test client and the live server speak plain http (tests/test_deploy_settings.py checks production's HTTPS).
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("SECURE_COOKIES", "false")

from bridge.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
HUMMINGBOT_RETRIES = 1
# One process runs the suite: a per-process cache that conftest clears before each test
# (tests/test_deploy_abuse.py checks the shared database cache with two processes).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
