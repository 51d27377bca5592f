"""Configuration classes, read from the environment (the README lists every setting)."""

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_DIR", BASE_DIR / "instance"))


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _env_seconds_by_name(name: str) -> dict[str, int]:
    """'job=seconds,job=seconds' → {job: seconds} (e.g. SCHEDULER_INTERVALS=flag_overdue_care=60)."""
    pairs = (item.split("=", 1) for item in os.environ.get(name, "").split(",") if "=" in item)
    return {key.strip(): int(value) for key, value in pairs}


def _embedded_secret_key() -> str:
    """A random key kept under instance/, so the embedded default needs no setup.

    Sessions survive restarts because the key is written once and then reused.
    """
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _database_url(default: str) -> str:
    url = os.environ.get("DATABASE_URL", default)
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants the driver named.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    """Settings shared by every environment."""

    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = _database_url(f"sqlite:///{INSTANCE_DIR / 'rescue-ledger.sqlite3'}")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SQLITE_BUSY_TIMEOUT_MS = _env_int("SQLITE_BUSY_TIMEOUT_MS", 30_000)
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))
    MAX_CONTENT_LENGTH = _env_int("MAX_UPLOAD_MB", 12) * 1024 * 1024
    DEFAULT_TIMEZONE = os.environ.get("DEFAULT_TIMEZONE", "Asia/Phnom_Penh")

    # Translations: English first, Khmer next.
    LANGUAGES = ("en", "km")
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "app" / "translations")

    # Sessions and CSRF. The API checks CSRF itself (bearer tokens are exempt).
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    PERMANENT_SESSION_LIFETIME = _env_int("SESSION_HOURS", 12) * 3600
    # The cookie is sent again only when the session changed. Re-sending it on every
    # response let a slow htmx GET (a species search still running when a form was
    # saved) put back the session of before and drop the saved form's flash message.
    # Sign-ins end at a fixed time on the server anyway (auth.sessions), not a sliding one.
    SESSION_REFRESH_EACH_REQUEST = False
    WTF_CSRF_CHECK_DEFAULT = False
    # A tablet form may stay open for a whole shift; an expired token re-renders the form.
    WTF_CSRF_TIME_LIMIT = _env_int("CSRF_TIME_LIMIT_S", 12 * 3600)

    # Login throttling. memory:// is per process: production with several workers
    # should point this at a shared store (redis://, memcached://).
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_FAILURES_PER_MINUTE = _env_int("LOGIN_FAILURES_PER_MINUTE", 10)

    # JSON API (flask-smorest).
    API_TITLE = "Rescue Ledger API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    API_MAX_PER_PAGE = 200
    API_TOKEN_DAYS = _env_int("API_TOKEN_DAYS", 90)

    # Daily care. A task is overdue when its due time plus its kind's grace has passed.
    CARE_GRACE_MINUTES = {"feed": 60, "medicate": 30, "weigh": 240, "clean": 240, "observe": 240, "enrich": 480}
    CARE_BACKDATE_HOURS = _env_int("CARE_BACKDATE_HOURS", 48)
    # Recorded more than this after it was done, a log is marked a late entry.
    CARE_LATE_ENTRY_MINUTES = _env_int("CARE_LATE_ENTRY_MINUTES", 60)
    # A tablet's clock a few minutes fast is not a log from the future.
    CARE_CLOCK_SKEW_MINUTES = 5
    # The standard dosing times (local to the facility) a prescription's doses fall at.
    # Every N hours ("q8h") counts from the first of them.
    DOSING_TIMES = {"SID": ["08:00"], "BID": ["08:00", "20:00"], "TID": ["08:00", "14:00", "20:00"],
                    "QID": ["06:00", "12:00", "18:00", "23:00"]}
    # Usual stay in care before release, per taxon class, where a species gives none.
    EXPECTED_STAY_DAYS = {"mammal": 180, "bird": 90, "reptile": 120, "amphibian": 60, "fish": 30}
    # A dose may be recorded this long before it is due, not earlier.
    DOSE_EARLY_MINUTES = 120
    # A prescription worked out from a weight older than this warns the vet.
    STALE_WEIGHT_DAYS = 14
    # A coordinator's authorisation to euthanise under an evidence hold lasts this long.
    EUTHANASIA_AUTHORISATION_HOURS = 72

    # Scheduled jobs and alerts (app/scheduler.py). Intervals in seconds, by job name, override
    # the job table's defaults; the lease says for how long one scheduler may act unrenewed.
    SCHEDULER_INTERVALS = _env_seconds_by_name("SCHEDULER_INTERVALS")
    SCHEDULER_LEASE_SECONDS = _env_int("SCHEDULER_LEASE_SECONDS", 60)
    WEIGHT_ALERT_DAYS = _env_int("WEIGHT_ALERT_DAYS", 30)  # no weight for this long → alert
    WEIGHT_LOSS_DAYS = 14  # a loss is measured against the heaviest weight of this many days before
    WEIGHT_LOSS_PERCENT = 10  # warning from this loss, critical from twice it
    QUARANTINE_ENDING_DAYS = 2
    READINESS_REVIEW_DAYS = _env_int("READINESS_REVIEW_DAYS", 30)  # past its expected stay, reassess this often
    ASSESSMENT_EXPIRY_DAYS = 7  # warn this long before a passed assessment expires
    HOLD_REVIEW_DAYS = _env_int("HOLD_REVIEW_DAYS", 90)  # an evidence hold is confirmed this often

    # The email digest of new alerts: off unless MAIL_SERVER is set.
    MAIL_SERVER = os.environ.get("MAIL_SERVER")
    MAIL_PORT = _env_int("MAIL_PORT", 25)
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_FROM = os.environ.get("MAIL_FROM", "rescue-ledger@localhost")
    # Where users open the app: the base of the links in emails (no request to take it from).
    SERVER_URL = os.environ.get("SERVER_URL", "http://127.0.0.1:5000")

    SEED_DEMO_PASSWORD = os.environ.get("SEED_DEMO_PASSWORD", "rescue-ledger-demo")

    @classmethod
    def init_app(cls, app) -> None:
        """Last checks and defaults once the app has loaded this class."""


class DevelopmentConfig(Config):
    """The embedded default of `make run`: SQLite under instance/, no setup needed."""

    # Served on plain http://127.0.0.1, so the cookie cannot be Secure-only.
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE

    @classmethod
    def init_app(cls, app) -> None:
        if not app.config.get("SECRET_KEY"):
            app.config["SECRET_KEY"] = _embedded_secret_key()


class TestConfig(Config):
    """The test suite: a throwaway database given by TEST_DATABASE_URL."""

    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105 - tests only
    SQLALCHEMY_DATABASE_URI = _database_url(os.environ.get("TEST_DATABASE_URL", "sqlite://"))
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    WTF_CSRF_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    # argon2's work factors are cut in tests; production keeps the library defaults.
    PASSWORD_HASH_FAST = True


class ProductionConfig(Config):
    """Behind a reverse proxy on PostgreSQL; refuses to start without a real SECRET_KEY."""

    @classmethod
    def init_app(cls, app) -> None:
        key = app.config.get("SECRET_KEY") or ""
        if len(key) < 32 or key in {"change-me", "dev", "secret"}:
            raise RuntimeError(
                "SECRET_KEY must be set to a random value of at least 32 characters in production."
            )


CONFIGS = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}


def config_from_env() -> type[Config]:
    """The configuration class named by APP_ENV (default: development)."""
    name = os.environ.get("APP_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"APP_ENV must be one of {', '.join(CONFIGS)}, not {name!r}") from None
