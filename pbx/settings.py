"""All settings, read from the environment (django-environ) in this one module.

With no environment at all the project runs for a newcomer: SQLite, DEBUG on, development keys generated once into
the ignored file `.dev-secrets.env`. With DJANGO_ENV=production every secret must be given or the process refuses to
start.
"""

from pathlib import Path

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from pbx.dev_secrets import load_or_create_dev_secrets

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(f"DJANGO_ENV must be 'development' or 'production', not {DJANGO_ENV!r}")
PRODUCTION = DJANGO_ENV == "production"

# Secrets that production must be given explicitly; development generates them once.
REQUIRED_SECRETS = ("SECRET_KEY", "PASSWORD_PEPPER", "ENCRYPTION_KEY", "BLIND_INDEX_KEY", "JWT_SECRET_KEY")
if PRODUCTION:
    missing = [name for name in (*REQUIRED_SECRETS, "DATABASE_URL") if not env.str(name, default="")]
    if missing:
        raise ImproperlyConfigured("Production settings need these environment variables: " + ", ".join(missing) + ".")
    _secrets = {name: env.str(name) for name in REQUIRED_SECRETS}
    if len(_secrets["SECRET_KEY"]) < 50 or _secrets["SECRET_KEY"].startswith("django-insecure"):
        raise ImproperlyConfigured("SECRET_KEY must be a random string of at least 50 characters in production.")
    for _name in ("PASSWORD_PEPPER", "BLIND_INDEX_KEY", "JWT_SECRET_KEY"):
        if len(_secrets[_name]) < 32:
            raise ImproperlyConfigured(f"{_name} must be a random string of at least 32 characters in production.")
    # A malformed key would otherwise surface only at the first read of an encrypted field.
    for _position, _key in enumerate(_secrets["ENCRYPTION_KEY"].split(","), start=1):
        try:
            Fernet(_key.strip())
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                f"ENCRYPTION_KEY: key {_position} is not a Fernet key (32 url-safe base64-encoded bytes); "
                "generate one with `python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key())'`."
            ) from None
else:
    _secrets = load_or_create_dev_secrets(BASE_DIR / ".dev-secrets.env", REQUIRED_SECRETS)
    _secrets.update({name: env.str(name) for name in REQUIRED_SECRETS if env.str(name, default="")})

SECRET_KEY = _secrets["SECRET_KEY"]
PASSWORD_PEPPER = _secrets["PASSWORD_PEPPER"]
# Fernet keys, newest first; older keys only decrypt (see `manage.py rotate_encryption_key`).
ENCRYPTION_KEYS = [key.strip() for key in _secrets["ENCRYPTION_KEY"].split(",") if key.strip()]
BLIND_INDEX_KEY = _secrets["BLIND_INDEX_KEY"]
JWT_SECRET_KEY = _secrets["JWT_SECRET_KEY"]
# Lifetime of an API bearer token (JWT HS256, revocable through api.ApiToken).
API_TOKEN_HOURS = env.int("API_TOKEN_HOURS", default=10)

DEBUG = env.bool("DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # First, so its runserver (daphne's, plus the telephony task) is the one manage.py finds.
    "telephony",
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "django_htmx",
    "template_partials",
    "csp",
    "lucide",
    "pbx",
    "companies",
    "accounts",
    "calls",
    "console",
    "reports",
    "ninja",  # serves Swagger UI from static files, so the docs page needs no CDN under the CSP
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "console.middleware.CompanyTimeZoneMiddleware",
]

ROOT_URLCONF = "pbx.urls"
ASGI_APPLICATION = "pbx.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
            ],
        },
    },
]

# SQLite for a newcomer's first run; PostgreSQL everywhere else (tests, CI, production).
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The newcomer's single process: writers queue for the lock instead of failing at once, readers never block.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.str("TEST_DATABASE_NAME", default=""):
    DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

PASSWORD_HASHERS = [
    "accounts.hashers.PepperedArgon2PasswordHasher",
    # Kept so a hash made before the pepper (none exist yet) would still verify and be upgraded on login.
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "ko"
LANGUAGES = [("ko", "한국어"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Seoul")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

# Cache: Redis when given, so the login rate limit holds across processes; local memory for one process.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    # LocMem is per process, which is exactly right for the single-process default.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

LOGIN_RATE = env.str("LOGIN_RATE", default="5/m")
# Reverse proxies in front of the app that append to X-Forwarded-For (nginx: 1); 0 trusts only REMOTE_ADDR. Behind a
# proxy left at 0, every client would share the proxy's address and its login limit.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
RATELIMIT_IP_META_KEY = "accounts.security.ratelimit_ip"
ARGON2_MEMORY_KIB = env.int("ARGON2_MEMORY_KIB", default=102400)
# How long the security record (logins, logouts, refused logins) is kept, in days; 0 keeps it forever. Korea's
# safety standard for personal information (안전성 확보조치 기준, article 8) asks for access records of at least one
# year, two for large processors: hence two years, and never less than one (see accounts.security).
LOGIN_RECORD_RETENTION_DAYS = env.int("LOGIN_RECORD_RETENTION_DAYS", default=730)

# Security headers.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Asterisk REST Interface. The in-process client only runs inside the ASGI server (see telephony.server).
ARI_HOST = env.str("ARI_HOST", default="127.0.0.1")
ARI_PORT = env.int("ARI_PORT", default=8088)
ARI_USER = env.str("ARI_USER", default="pbx")
ARI_PASS = env.str("ARI_PASS", default="pbx-dev-secret" if not PRODUCTION else "")
ARI_APP = env.str("ARI_APP", default="pbx_ari")
# How an agent's phone and a callback's customer are dialed, and how long a direct call rings an agent.
AGENT_ENDPOINT_TEMPLATE = env.str("AGENT_ENDPOINT_TEMPLATE", default="PJSIP/{extension}")
CUSTOMER_ENDPOINT_TEMPLATE = env.str("CUSTOMER_ENDPOINT_TEMPLATE", default="PJSIP/{number}")
DIRECT_RING_TIMEOUT = env.int("DIRECT_RING_TIMEOUT", default=20)
# Writes held in memory while the database is unreachable; past this they are counted and logged as lost.
TELEPHONY_PENDING_WRITES_LIMIT = env.int("TELEPHONY_PENDING_WRITES_LIMIT", default=100_000)
TELEPHONY_DB_THREADS = env.int("TELEPHONY_DB_THREADS", default=4)
# How long a dialed number's route (queue settings, agent) is remembered before it is read again.
TELEPHONY_ROUTE_CACHE_SECONDS = env.float("TELEPHONY_ROUTE_CACHE_SECONDS", default=5.0)
# Off in tests and management commands; `manage.py runserver` and the production entry point start it.
TELEPHONY_ENABLED = env.bool("TELEPHONY_ENABLED", default=True)
# The simulated PBX (fake ARI server) started beside the app for the demo run.
SIMULATED_PBX = env.bool("SIMULATED_PBX", default=False)
SIMULATED_PBX_CALLS_PER_MINUTE = env.float("SIMULATED_PBX_CALLS_PER_MINUTE", default=12.0)

# What `manage.py render_asterisk_config` writes into Asterisk's configuration (see asterisk/README.md).
ASTERISK_CONFIG_DIR = env.path("ASTERISK_CONFIG_DIR", default=BASE_DIR / "asterisk" / "generated")
ASTERISK_HTTP_BIND = env.str("ASTERISK_HTTP_BIND", default="127.0.0.1")  # where Asterisk serves ARI
ASTERISK_SIP_BIND = env.str("ASTERISK_SIP_BIND", default="0.0.0.0:5060")
ASTERISK_EXTERNAL_ADDRESS = env.str("ASTERISK_EXTERNAL_ADDRESS", default="")  # public address behind NAT
ASTERISK_MEDIA_ADDRESS = env.str("ASTERISK_MEDIA_ADDRESS", default="")
ASTERISK_LOCAL_NETS = env.list("ASTERISK_LOCAL_NETS", default=[])
ASTERISK_CODECS = env.list("ASTERISK_CODECS", default=["ulaw", "alaw"])
ASTERISK_LANGUAGE = env.str("ASTERISK_LANGUAGE", default="en")
# Played to a queue caller when no application process holds the Stasis app; empty: no message, just the hangup.
ASTERISK_UNAVAILABLE_PROMPT = env.str("ASTERISK_UNAVAILABLE_PROMPT", default="all-circuits-busy-now&pls-try-call-later")
# Played to a queue caller outside the queue's business hours (record your own, e.g. custom/closed-ko); empty: none.
ASTERISK_CLOSED_PROMPT = env.str("ASTERISK_CLOSED_PROMPT", default="pls-try-call-later")
# Played to a caller whose number the company blocks before the refusal (cause 21); empty: refused without one.
ASTERISK_BLOCKED_PROMPT = env.str("ASTERISK_BLOCKED_PROMPT", default="")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "pbx.json_logging.JsonFormatter"},
    },
    # LOG_FORMAT=json: one JSON object per line, for a log collector.
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if env.str("LOG_FORMAT", default="plain") == "json" else "plain",
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}},
}
