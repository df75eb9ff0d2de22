"""Trading Bridge settings: every knob comes from the environment (or `.env`), see README."""
import zoneinfo
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from bridge.client_address import proxy_networks

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

FLAGS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False, "": False}


def number(name: str, cast, default):
    """A number from the environment; a typo is a start-up error naming the variable, never a silent default."""
    raw = env.str(name, default=str(default)).strip()
    try:
        return cast(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a {cast.__name__}, not {raw!r}") from None


def flag(name: str, default: bool) -> bool:
    raw = env.str(name, default=str(default)).strip().lower()
    if raw not in FLAGS:
        raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")
    return FLAGS[raw]


DEBUG = flag("DEBUG", False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (set it in the environment or .env).")
    SECRET_KEY = "insecure-dev-only-key"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])

# --- HTTPS: on by default outside DEBUG (`make demo` sets DEBUG and stays on plain http://127.0.0.1) ---
# Behind a TLS-terminating proxy (Railway, a load balancer) name the header it sets to "https",
# e.g. X-Forwarded-Proto; only then is that header believed.
_proxy_ssl_header = env.str("SECURE_PROXY_SSL_HEADER", default="").strip()
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https") if _proxy_ssl_header else None
)
SECURE_SSL_REDIRECT = flag("SECURE_SSL_REDIRECT", not DEBUG)
# Probes (Docker HEALTHCHECK, Railway) call /health over plain http inside the private network.
SECURE_REDIRECT_EXEMPT = [r"^health$"]
SECURE_HSTS_SECONDS = number("SECURE_HSTS_SECONDS", int, 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = flag("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = flag("SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = flag("SECURE_COOKIES", not DEBUG)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "axes",
    "bots",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "bridge.urls"
WSGI_APPLICATION = "bridge.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "bots.context_processors.panel",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent clicks wait their turn instead of failing with "database is locked": WAL lets reads
    # run beside the one writer, IMMEDIATE takes the write lock when a transaction begins (a deferred
    # one that reads then writes fails at once, no timeout helps), and writers wait up to 20 s.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes first: a locked-out username/IP pair is refused before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = number("LOGIN_FAILURE_LIMIT", int, 10)
AXES_COOLOFF_TIME = number("LOGIN_LOCKOUT_HOURS", float, 1.0)
# Per username and address together: a stranger cannot lock the desk out, and behind a proxy (one address for
# everyone) a guessing run still locks the name it guesses.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Who is calling, for the login lockout and the API throttles alike (bridge/client_address.py): how many proxies
# (Railway's edge, a load balancer) stand in front, and, when known, their addresses: X-Forwarded-For is then
# believed only from them, so a caller reaching the app directly cannot choose its own address.
TRUSTED_PROXY_COUNT = number("TRUSTED_PROXY_COUNT", int, 0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured(f"TRUSTED_PROXY_COUNT must be 0 or more, not {TRUSTED_PROXY_COUNT}")
TRUSTED_PROXY_IPS = proxy_networks(env.list("TRUSTED_PROXY_IPS", default=[]))
if TRUSTED_PROXY_IPS and not TRUSTED_PROXY_COUNT:
    raise ImproperlyConfigured("TRUSTED_PROXY_IPS names proxies in front: set TRUSTED_PROXY_COUNT (how many) too")
AXES_CLIENT_IP_CALLABLE = "bridge.client_address.client_address"

# One cache for every web worker: Redis when REDIS_URL is set (it then also keeps the API's throttle counts,
# bots/api/throttles.py), otherwise a table in the database (created by migration bots 0006; the throttle
# counts are then rows of their own, one statement per request).
REDIS_URL = env.str("REDIS_URL", default="")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "bridge_cache"}
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND", default="whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Content-Security-Policy on every page (django-csp): scripts, styles, fonts and data only from this app, so the
# panel and the API docs work with no internet and an injected tag cannot load or send anything elsewhere.
# Inline styles stay allowed: Swagger UI, ReDoc and the admin set style attributes.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Hummingbot API (the upstream) ---
HUMMINGBOT_API_URL = env.str("HUMMINGBOT_API_URL", default="http://localhost:8000").rstrip("/")
HUMMINGBOT_API_USERNAME = env.str("HUMMINGBOT_API_USERNAME", default="hummingbot")
HUMMINGBOT_API_PASSWORD = env.str("HUMMINGBOT_API_PASSWORD", default="")
HUMMINGBOT_IMAGE = env.str("HUMMINGBOT_IMAGE", default="hummingbot/hummingbot:version-2.16.0")
HUMMINGBOT_TIMEOUT = number("HUMMINGBOT_TIMEOUT", float, 10.0)
# Deployed bot names end in the API server's local time (docs/hummingbot-api.md §2); its image runs in UTC
# unless TZ is set there. Used to recognise the bot a deploy created when its answer was lost.
HUMMINGBOT_TIME_ZONE = env.str("HUMMINGBOT_TIME_ZONE", default="UTC")
try:
    zoneinfo.ZoneInfo(HUMMINGBOT_TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(f"HUMMINGBOT_TIME_ZONE must be an IANA time zone such as UTC, not {HUMMINGBOT_TIME_ZONE!r}") from None
HUMMINGBOT_RETRIES = number("HUMMINGBOT_RETRIES", int, 2)
# Hosts and CIDR networks a Hummingbot server's URL may name; empty: any (bots/hummingbot/targets.py, issue 15).
HUMMINGBOT_URL_ALLOWLIST = env.list("HUMMINGBOT_URL_ALLOWLIST", default=[])
# Shown as a banner in the panel when the upstream is the bundled emulator.
HUMMINGBOT_SANDBOX = flag("HUMMINGBOT_SANDBOX", False)

# Seconds one /health check serves every caller (probes hit it every few seconds).
HEALTH_CACHE_SECONDS = number("HEALTH_CACHE_SECONDS", int, 5)

# Prices, trading rules and an account's key list read for the pre-trade checks are kept this long per server,
# connector and pair (or account): a preview then its deploy, or a 409 then its confirmation, read them once.
PRETRADE_CACHE_SECONDS = number("PRETRADE_CACHE_SECONDS", int, 15)
if not 0 <= PRETRADE_CACHE_SECONDS <= 30:
    raise ImproperlyConfigured(f"PRETRADE_CACHE_SECONDS must be between 0 and 30, not {PRETRADE_CACHE_SECONDS}")

# --- Sync ---
# django-q2 schedules run at most once a minute: the status task then syncs every BOTS_SYNC_SECONDS
# within its minute; `GET /bots` refreshes inline when the last attempt is older (one poller per interval).
BOTS_SYNC_SECONDS = number("BOTS_SYNC_SECONDS", int, 10)
if not 1 <= BOTS_SYNC_SECONDS <= 60:
    raise ImproperlyConfigured(f"BOTS_SYNC_SECONDS must be between 1 and 60, not {BOTS_SYNC_SECONDS}")
TRADES_SYNC_MINUTES = number("TRADES_SYNC_MINUTES", int, 1)
# A bot absent from Hummingbot's status list this long is gone (not_found, or archived once its archive
# shows). Judged over time, not calls: the list blinks and every GET /bots is a call (docs/hummingbot-api.md §10).
VANISHED_AFTER_SECONDS = number("VANISHED_AFTER_SECONDS", int, 60)

# --- Alerts (bots/services/alerts.py): evaluated in the syncs, delivered by a django-q2 task through Apprise ---
# Apprise URLs separated by spaces or commas; `critical=URL` sends that channel critical alerts only. They carry
# tokens: read from the environment only, never stored in the database, shown masked (scheme and host).
ALERT_URLS = env.str("ALERT_URLS", default="")
# An open alert nobody acknowledged is sent again this often.
ALERT_RENOTIFY_MINUTES = number("ALERT_RENOTIFY_MINUTES", int, 30)
# A Hummingbot server whose status reads have failed this long gets one alert (0: at the first failed read).
ALERT_SERVER_DOWN_MINUTES = number("ALERT_SERVER_DOWN_MINUTES", int, 3)
# A bot's net PnL below minus this share of its max loss (max_loss_quote) raises an alert.
ALERT_LOSS_SHARE_PCT = number("ALERT_LOSS_SHARE_PCT", int, 80)
# The daily desk report (bots/services/report.py) goes to the alert channels at this hour, UTC, about yesterday.
DAILY_REPORT_HOUR = number("DAILY_REPORT_HOUR", int, 7)
for _name, _value, _low, _high in (("DAILY_REPORT_HOUR", DAILY_REPORT_HOUR, 0, 23),
                                   ("ALERT_RENOTIFY_MINUTES", ALERT_RENOTIFY_MINUTES, 1, 10_080),
                                   ("ALERT_SERVER_DOWN_MINUTES", ALERT_SERVER_DOWN_MINUTES, 0, 1_440),
                                   ("ALERT_LOSS_SHARE_PCT", ALERT_LOSS_SHARE_PCT, 1, 100)):
    if not _low <= _value <= _high:
        raise ImproperlyConfigured(f"{_name} must be between {_low} and {_high}, not {_value}")

# --- DRF ---
# The API's body limit (413 above it): a create body is under 10 KB. Django's own, larger
# DATA_UPLOAD_MAX_MEMORY_SIZE still applies to the admin's forms.
API_MAX_BODY_BYTES = number("API_MAX_BODY_BYTES", int, 16 * 1024)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["bots.api.permissions.ModelPermissions"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["bots.api.parsers.BoundedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "bots.api.schema.StrictAutoSchema",
    "EXCEPTION_HANDLER": "bots.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "bots.api.throttles.AnonThrottle", "bots.api.throttles.ReadThrottle", "bots.api.throttles.WriteThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("ANON_THROTTLE_RATE", default="120/min"),
        "reads": env.str("READ_THROTTLE_RATE", default="1200/min"),
        "writes": env.str("WRITE_THROTTLE_RATE", default="60/min"),
    },
}
API_DOCS_PUBLIC = flag("API_DOCS_PUBLIC", DEBUG)
SPECTACULAR_SETTINGS = {
    "TITLE": "Trading Bridge API",
    "DESCRIPTION": "Control panel API in front of the Hummingbot API.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Request bodies get their own components: read-only keys (id, created_at) are not part of them.
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and ReDoc from drf-spectacular-sidecar's static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Outside DEBUG the schema needs a login (the docs pages redirect to the admin login, bridge/urls.py).
    "SERVE_PERMISSIONS": [f"rest_framework.permissions.{'AllowAny' if API_DOCS_PUBLIC else 'IsAuthenticated'}"],
    # Bots read back may be `external` (adopted); create bodies are per strategy (bots/api/strategy_docs.py).
    "ENUM_NAME_OVERRIDES": {"BotStrategyEnum": "bots.models.Bot.Strategy"},
}

# --- django-q2: the ORM broker, so no Redis is needed ---
Q_CLUSTER = {
    "name": "trading-bridge",
    "orm": "default",
    "workers": number("Q_WORKERS", int, 2),
    "timeout": number("Q_TIMEOUT", int, 120),
    "retry": number("Q_RETRY", int, 180),
    "max_attempts": 1,
    "catch_up": False,
    "sync": flag("Q_SYNC", False),
}

LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}")
LOG_LINE = "%(asctime)s %(levelname)s %(name)s %(message)s"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": LOG_LINE},
        # One JSON object per line for log collectors (Railway, Loki, CloudWatch).
        "json": {"()": "pythonjsonlogger.json.JsonFormatter", "format": LOG_LINE},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
