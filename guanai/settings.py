"""Guanai settings: one file, read from the environment, defaults that run the demo unchanged."""

import contextlib
import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
# Children's data at rest (the database, the keys, the outbox of guardians' phones, uploads,
# letters) is for the service's own user only. Every entry point (guanai, manage.py, wsgi, the
# worker) loads these settings before it writes anything, so the mask is set here: new files
# 0600, new folders 0700. The data folder is made 0700 even when an older install left it 0755,
# which closes whatever older 0644 files it holds.
os.umask(0o077)
DATA_DIR = Path(os.environ.get("GUANAI_DATA_DIR", "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
with contextlib.suppress(OSError):  # a folder owned by someone else: theirs to set
    DATA_DIR.chmod(0o700)
(DATA_DIR / "static").mkdir(exist_ok=True)
# Backups kept for the retention rule (`guanai prune-backups`; anonymisation counts the backups
# that still hold its children): docs/privacy.md, docs/deploy.md.
GUANAI_BACKUP_DIR = os.environ.get("GUANAI_BACKUP_DIR") or str(DATA_DIR / "backups")
GUANAI_BACKUP_KEEP_DAYS = int(os.environ.get("GUANAI_BACKUP_KEEP_DAYS", "90"))


def _env_secret(name: str, default: str | None = None) -> str | None:
    """Read a secret from NAME or from the file named by NAME_FILE."""
    if os.environ.get(name):
        return os.environ[name]
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return default


def _data_dir_secret(filename: str) -> str:
    """A secret generated once into the data directory (demo and trial installs)."""
    path = DATA_DIR / filename
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _env_secret("GUANAI_SECRET_KEY") or _data_dir_secret("secret.key")
# Key for ID numbers at rest (AES-GCM) and their lookup hash (HMAC); never the SECRET_KEY,
# so rotating sessions does not make the register unreadable.
FIELD_KEY = _env_secret("GUANAI_FIELD_KEY") or _data_dir_secret("field.key")

DEBUG = os.environ.get("GUANAI_DEBUG", "") == "1"
ALLOWED_HOSTS = os.environ.get("GUANAI_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("GUANAI_CSRF_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",  # the API docs from its own static files, not a CDN (the CSP allows no other site)
    "simple_history",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "guanai.accounts",
    "guanai.org",
    "guanai.children",
    "guanai.pairing",
    "guanai.contacts",
    "guanai.screening",
    "guanai.jobs",
    "guanai.care",
    "guanai.activities",
    "guanai.offline",
    "guanai.inspections",
    "guanai.protection",
    "guanai.stats",
    "guanai.villages",
    "guanai.privacy",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "guanai.middleware.security_headers",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # an account holding only the audit role reaches the access log and nothing else
    "guanai.accounts.middleware.AuditorOnlyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "guanai.urls"
WSGI_APPLICATION = "guanai.wsgi.application"

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
                "guanai.accounts.context.roles",
            ],
            "builtins": ["guanai.templatetags.guanai"],
        },
    }
]

# --- database -------------------------------------------------------------------------------
SQLITE_PATH = DATA_DIR / "guanai.sqlite3"
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": SQLITE_PATH,
            "OPTIONS": {
                # WAL lets teachers read while one writer writes; the busy timeout makes a
                # writer wait for the lock instead of failing with "database is locked". A 64 MB
                # page cache per connection keeps a town's cards in memory (the default 2 MB
                # re-read them: the town's due list 468 → 266 ms, bench/due_list.py); temporary
                # B-trees and statement journals (a write to a table with triggers) in memory.
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                    " PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;"
                ),
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
PG_OPTIONS = "-c jit=off"
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # No JIT: PostgreSQL compiles a query with LLVM once its estimated cost passes 100,000 (and
    # optimises it past 500,000). Our statements probe an index per card, which the planner
    # prices high and runs fast: a school's statistics spent 63 of 134 ms compiling, the
    # town's 待联系 panel 1.3 of 1.8 s, the town's due page 20 s (docs/stats.md).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = PG_OPTIONS
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"


# A PostgreSQL streaming replica for the reads of reports, statistics and exports (never a
# write, never inside a transaction, never just after the same browser wrote): docs/deploy.md.
if os.environ.get("GUANAI_DB_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["GUANAI_DB_REPLICA_URL"], conn_max_age=60
    )
    # A replica that does not answer is noticed in seconds, not after the OS's TCP timeout
    # (db_router.replica_answers then reads the primary).
    DATABASES["replica"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 3)
    DATABASES["replica"]["OPTIONS"]["options"] = PG_OPTIONS  # as the primary
    # Tests: Django's mirror takes only the test database's NAME; the host and port stay the
    # standby's, where the test database created on the primary arrives by streaming.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["guanai.db_router.ReplicaRouter"]
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware"),
        "guanai.db_router.replica_reads",
    )

# --- auth and sessions (等保 level 3) ---------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
SESSION_COOKIE_AGE = int(os.environ.get("GUANAI_SESSION_MINUTES", "30")) * 60
# The offline phone app locks its packet after this long untouched (docs/offline.md).
# Children who left school this many years ago are anonymised by `guanai anonymise`.
GUANAI_ANONYMISE_AFTER_YEARS = int(os.environ.get("GUANAI_ANONYMISE_AFTER_YEARS", "3"))
GUANAI_OFFLINE_IDLE_MINUTES = int(os.environ.get("GUANAI_OFFLINE_IDLE_MINUTES", "120"))
SESSION_SAVE_EVERY_REQUEST = True  # idle timeout, not an absolute one
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
HTTPS = os.environ.get("GUANAI_HTTPS", "") == "1"
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS

AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
# Lock the pair (username, address): one teacher mistyping never locks the whole school that
# shares one router, and one address cannot guess at many accounts without locking each.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "guanai.accounts.lockout.lockout_response"
AXES_IPWARE_PROXY_COUNT = int(os.environ.get("GUANAI_PROXY_COUNT", "0"))
AXES_VERBOSE = False
# API tokens expire this many days after they are issued.
GUANAI_TOKEN_DAYS = int(os.environ.get("GUANAI_TOKEN_DAYS", "30"))

# --- security headers (CSP and no-store: guanai/middleware.py) ---------------------------------
if HTTPS:
    # Browsers that once saw the site over TLS never fall back to plain HTTP for a year.
    # Subdomains are left out: the town's other sites may not all have certificates.
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = False
    if AXES_IPWARE_PROXY_COUNT > 0:
        # Behind a TLS-terminating proxy the request reaches us as HTTP; trust the proxy's word
        # (only when a proxy is declared, or any client could claim HTTPS).
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR.parent / "locale"]
# Date fields write 2026-12-05, the only form <input type="date"> takes (guanai/formats/).
FORMAT_MODULE_PATH = ["guanai.formats"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = DATA_DIR / "uploads"

# --- background jobs ------------------------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- API --------------------------------------------------------------------------------------
NINJA_PAGINATION_PER_PAGE = 50
NINJA_MAX_PER_PAGE_SIZE = 500

# --- domain settings --------------------------------------------------------------------------
# A parent away for work this many months or more makes the child left-behind (学籍 rule).
GUANAI_AWAY_MONTHS = int(os.environ.get("GUANAI_AWAY_MONTHS", "3"))
# 民政口径: under this age at the reference date.
GUANAI_CIVIL_AFFAIRS_AGE = 16
# Searches by a whole ID number or 学籍号 a user may make in an hour (each one is logged).
GUANAI_ID_SEARCH_PER_HOUR = int(os.environ.get("GUANAI_ID_SEARCH_PER_HOUR", "30"))
# 结对帮扶: the pairing objective's weights (SPEC §6.1) and the same-gender rule.
GUANAI_PAIR_SAME_GENDER = os.environ.get("GUANAI_PAIR_SAME_GENDER", "") == "1"
GUANAI_PAIR_DISTANCE_WEIGHT = float(os.environ.get("GUANAI_PAIR_DISTANCE_WEIGHT", "1"))
GUANAI_PAIR_AGE_WEIGHT = float(os.environ.get("GUANAI_PAIR_AGE_WEIGHT", "1"))
GUANAI_PAIR_MAX_AGE_GAP_DAYS = int(os.environ.get("GUANAI_PAIR_MAX_AGE_GAP_DAYS", "730"))


def _brief_client_errors(record) -> bool:
    """A refused (403) or missing (404) page is an everyday answer, not a crash: one warning
    line without the traceback Django attaches, so real errors stand out in the log."""
    if getattr(record, "status_code", 500) < 500:
        record.exc_info, record.exc_text = None, None
    return True


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "brief_client_errors": {
            "()": "django.utils.log.CallbackFilter",
            "callback": _brief_client_errors,
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"filters": ["brief_client_errors"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("GUANAI_LOG_LEVEL", "WARNING")},
}
