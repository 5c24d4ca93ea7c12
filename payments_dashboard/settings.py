"""Settings for the payments dashboard. Everything an operator may change comes from the
environment; `.env.example` lists each variable and the README explains them."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF

from payments_dashboard.env import env_bool, env_int, env_list, env_str, secret_key_problem

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / ".data")))

DEBUG = env_bool("DJANGO_DEBUG", False)

# Used only with DEBUG on; listed below so production can never run with it.
_DEBUG_SECRET_KEY = "insecure-development-key-only-used-with-debug-on"
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not DEBUG:
    _key_problem = secret_key_problem(SECRET_KEY, known=[_DEBUG_SECRET_KEY])
    if _key_problem:
        raise SystemExit(
            f"Refusing to start: DJANGO_SECRET_KEY {_key_problem} and DJANGO_DEBUG is off. Set "
            "it to a long random value, e.g. python -c 'import secrets; "
            "print(secrets.token_urlsafe(50))'."
        )
elif not SECRET_KEY:
    SECRET_KEY = _DEBUG_SECRET_KEY

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
# A stale tab's form gets our own page (reload and try again; sign out still works).
CSRF_FAILURE_VIEW = "accounts.views.csrf_failure"

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
    "csp",
    "template_partials",
    "social_django",
    "accounts",
    "payments",
    "simulator",
]

MIDDLEWARE = [
    # First: the load balancer's /healthz skips the host check, https redirect and sessions.
    "payments_dashboard.health.HealthCheckMiddleware",
    # Every log line of a request carries its id (X-Request-ID from the load balancer).
    "payments_dashboard.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "payments_dashboard.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "social_django.middleware.SocialAuthExceptionMiddleware",
    "payments.middleware.DependencyErrorMiddleware",
]

ROOT_URLCONF = "payments_dashboard.urls"

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
                "social_django.context_processors.backends",
                "payments_dashboard.context_processors.site",
                "accounts.context_processors.membership",
            ],
        },
    },
]

WSGI_APPLICATION = "payments_dashboard.wsgi.application"

# Django's own database holds users and sessions only (payments live in DynamoDB).
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'db.sqlite3'}"), conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Many requests write at once (sessions, the cache, the simulator's links). WAL lets reads
    # go on during a write; IMMEDIATE takes the write lock when a transaction starts, so two
    # transactions never deadlock upgrading a read lock (SQLite's instant "database is
    # locked"); the busy timeout makes a writer wait its turn instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        "transaction_mode": "IMMEDIATE",
        "timeout": env_int("SQLITE_BUSY_TIMEOUT_SECONDS", 20),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Shared by every app server (it lives in the shared database): holds the TrueLayer token.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "django_cache",
    }
}

AUTH_PASSWORD_VALIDATORS: list[dict[str, str]] = []

LANGUAGE_CODE = "en-gb"
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"
# Times are stored in UTC and shown in the merchant's zone.
MERCHANT_TIME_ZONE = env_str("MERCHANT_TIME_ZONE", "Europe/London")

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Where `collectstatic` puts the hashed files WhiteNoise serves with debug off.
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Cookies and transport. SameSite must stay Lax: the return from Auth0 is a cross-site GET.
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
# The token reaches htmx through the template (hx-headers), never through JavaScript.
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    # Browsers that saw the site once refuse plain HTTP to it for this long.
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
    # Joining the browsers' preload list is the domain owner's decision (hstspreload.org),
    # not this app's: off unless asked for, and Django's reminder about it silenced.
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]

# Browser features this dashboard never uses are switched off for it (and anything it embeds).
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
    "magnetometer=(), microphone=(), midi=(), payment=(), usb=(), clipboard-write=(self)"
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "payments_dashboard.request_id.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"botocore": {"level": "WARNING"}, "urllib3": {"level": "WARNING"}},
}

# --- DynamoDB (payments/dynamo/) ------------------------------------------------------------
# Unset endpoint = AWS DynamoDB with credentials from the environment or an IAM role.
DYNAMODB_ENDPOINT_URL = env_str("DYNAMODB_ENDPOINT_URL") or None
AWS_REGION = env_str("AWS_REGION", env_str("AWS_DEFAULT_REGION", "eu-west-2"))
DYNAMODB_TABLE = env_str("DYNAMODB_TABLE", "Payments")
DYNAMODB_META_TABLE = env_str("DYNAMODB_META_TABLE", f"{DYNAMODB_TABLE}Meta")
# Per attempt (3 attempts): a hung database shows its error page within seconds.
DYNAMODB_TIMEOUT_SECONDS = env_int("DYNAMODB_TIMEOUT_SECONDS", 2)
# /healthz answers 503 when Django's database or DynamoDB has not answered within this.
HEALTHZ_TIMEOUT_SECONDS = env_int("HEALTHZ_TIMEOUT_SECONDS", 2)
PAYMENTS_PAGE_SIZE = env_int("PAYMENTS_PAGE_SIZE", 25)
# A refund moves money: it needs a sign-in at most this many minutes old (else: sign in again).
REFUND_REAUTH_MINUTES = env_int("REFUND_REAUTH_MINUTES", 15)
# Items a search may read per request when its filters set most of what it reads aside (it then
# answers with a cursor); without such filters a page reads about two items per row.
PAYMENTS_SEARCH_BUDGET = env_int("PAYMENTS_SEARCH_BUDGET", 1000)

# --- Auth0 sign-in (accounts/) -----------------------------------------------------------
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"

# The Auth0 application's Domain (bare host, e.g. `payments.eu.auth0.com`), Client ID and
# Client Secret. A pasted `https://` or trailing slash is tolerated.
AUTH0_DOMAIN = env_str("AUTH0_DOMAIN").removeprefix("https://").rstrip("/")
AUTH0_CLIENT_ID = env_str("AUTH0_CLIENT_ID")
AUTH0_CLIENT_SECRET = env_str("AUTH0_CLIENT_SECRET")
_auth0_missing = [
    name
    for name, value in [
        ("AUTH0_DOMAIN", AUTH0_DOMAIN),
        ("AUTH0_CLIENT_ID", AUTH0_CLIENT_ID),
        ("AUTH0_CLIENT_SECRET", AUTH0_CLIENT_SECRET),
    ]
    if not value
]
if _auth0_missing and (len(_auth0_missing) < 3 or not DEBUG):
    raise SystemExit(
        f"Refusing to start: {', '.join(_auth0_missing)} not set. Merchants sign in through "
        "Auth0: set AUTH0_DOMAIN, AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET (see .env.example)."
    )
# A local run (DEBUG on) without any Auth0 settings offers a development sign-in instead.
# accounts/ also re-checks DEBUG on every request, so this can never be on in production.
DEV_SIGN_IN = DEBUG and not AUTH0_DOMAIN

# Content-Security-Policy (django-csp): scripts and styles only from our own static files, no
# inline code, nothing framed. Forms may also go to Auth0 (sign-in and sign-out redirect there).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # Merchants' avatars come from Auth0's identity providers (Gravatar, Google, ...).
        "img-src": [SELF, "data:", "https:"],
        "connect-src": [SELF],
        "form-action": [SELF, *([f"https://{AUTH0_DOMAIN}"] if AUTH0_DOMAIN else [])],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

AUTHENTICATION_BACKENDS = [
    "accounts.auth0.Auth0PKCE",
    "django.contrib.auth.backends.ModelBackend",
]
SOCIAL_AUTH_AUTH0_DOMAIN = AUTH0_DOMAIN
SOCIAL_AUTH_AUTH0_KEY = AUTH0_CLIENT_ID
SOCIAL_AUTH_AUTH0_SECRET = AUTH0_CLIENT_SECRET
SOCIAL_AUTH_URL_NAMESPACE = "social"
SOCIAL_AUTH_PIPELINE = (
    # Every sign-in starts from "nobody": one Django user never collects two Auth0 identities,
    # so the merchant id behind a session cannot change under it.
    "accounts.pipeline.start_from_signed_out",
    "social_core.pipeline.social_auth.social_details",
    "social_core.pipeline.social_auth.social_names",
    "social_core.pipeline.social_auth.social_uid",
    "social_core.pipeline.social_auth.auth_allowed",
    "social_core.pipeline.social_auth.social_user",
    "social_core.pipeline.user.get_username",
    "social_core.pipeline.user.create_user",
    "social_core.pipeline.social_auth.associate_user",
    "social_core.pipeline.social_auth.load_extra_data",
    "social_core.pipeline.user.user_details",
    # The person's personal merchant account (id = their `sub`), owner, made once.
    "accounts.pipeline.personal_account",
)
SOCIAL_AUTH_LOGIN_REDIRECT_URL = LOGIN_REDIRECT_URL
# Failures go to a friendly page; only the error code travels (never a provider's message).
SOCIAL_AUTH_LOGIN_ERROR_URL = "/accounts/error/"
SOCIAL_AUTH_RAISE_EXCEPTIONS = False
SOCIAL_AUTH_ERROR_TRANSPORT = ["query"]
SOCIAL_AUTH_ERROR_INCLUDE_METADATA = True
SOCIAL_AUTH_SANITIZE_REDIRECTS = True
SOCIAL_AUTH_ALLOWED_REDIRECT_HOSTS: list[str] = []
SOCIAL_AUTH_REQUESTS_TIMEOUT = env_int("AUTH0_TIMEOUT_SECONDS", 10)

# --- TrueLayer payment links and webhooks (payments/truelayer/, simulator/) -------------
# Credentials come from TrueLayer Console (sandbox or live). The signing key is the EC P-521
# private key whose public half is uploaded to Console: a PEM (newlines may be written `\n`)
# or the path of a PEM file.
TRUELAYER_CLIENT_ID = env_str("TRUELAYER_CLIENT_ID")
TRUELAYER_CLIENT_SECRET = env_str("TRUELAYER_CLIENT_SECRET")
TRUELAYER_SIGNING_KEY_ID = env_str("TRUELAYER_SIGNING_KEY_ID")
TRUELAYER_SIGNING_PRIVATE_KEY = env_str("TRUELAYER_SIGNING_PRIVATE_KEY")
TRUELAYER_MERCHANT_ACCOUNT_ID = env_str("TRUELAYER_MERCHANT_ACCOUNT_ID")
_truelayer_credentials = {
    "TRUELAYER_CLIENT_ID": TRUELAYER_CLIENT_ID,
    "TRUELAYER_CLIENT_SECRET": TRUELAYER_CLIENT_SECRET,
    "TRUELAYER_SIGNING_KEY_ID": TRUELAYER_SIGNING_KEY_ID,
    "TRUELAYER_SIGNING_PRIVATE_KEY": TRUELAYER_SIGNING_PRIVATE_KEY,
    "TRUELAYER_MERCHANT_ACCOUNT_ID": TRUELAYER_MERCHANT_ACCOUNT_ID,
}
_truelayer_missing = [name for name, value in _truelayer_credentials.items() if not value]
# "simulator" (the local fake in simulator/, DEBUG only), "sandbox" or "live".
TRUELAYER_MODE = env_str(
    "TRUELAYER_MODE", "simulator" if DEBUG and len(_truelayer_missing) == 5 else "sandbox"
).lower()
if TRUELAYER_MODE not in {"simulator", "sandbox", "live"}:
    raise SystemExit(
        f"Refusing to start: TRUELAYER_MODE={TRUELAYER_MODE!r}; use simulator, sandbox or live."
    )
if TRUELAYER_MODE == "simulator" and not DEBUG:
    raise SystemExit(
        "Refusing to start: TRUELAYER_MODE=simulator needs DJANGO_DEBUG on; the payment "
        "simulator can never run in production. Set the TRUELAYER_* credentials instead."
    )
if TRUELAYER_MODE != "simulator" and _truelayer_missing:
    raise SystemExit(
        f"Refusing to start: {', '.join(_truelayer_missing)} not set (TRUELAYER_MODE="
        f"{TRUELAYER_MODE}). Set them from TrueLayer Console (see .env.example), or run with "
        "DJANGO_DEBUG=1 and no TrueLayer settings to use the simulator."
    )
if TRUELAYER_MODE != "simulator":
    from payments.truelayer.keys import KeyProblem, load_signing_key_pem

    try:
        TRUELAYER_SIGNING_PRIVATE_KEY = load_signing_key_pem(TRUELAYER_SIGNING_PRIVATE_KEY)
    except KeyProblem as problem:
        raise SystemExit(f"Refusing to start: TRUELAYER_SIGNING_PRIVATE_KEY {problem}") from None

_truelayer_hosts = {
    "live": ("https://auth.truelayer.com", "https://api.truelayer.com"),
    "sandbox": ("https://auth.truelayer-sandbox.com", "https://api.truelayer-sandbox.com"),
}
_default_auth_url, _default_api_url = _truelayer_hosts.get(
    TRUELAYER_MODE, _truelayer_hosts["sandbox"]
)
# Overrides for a local fake TrueLayer (the production-shape tests) or an egress proxy. With
# debug off they must be https: the token and the client secret travel to them.
TRUELAYER_AUTH_URL = env_str("TRUELAYER_AUTH_URL") or _default_auth_url
TRUELAYER_API_URL = env_str("TRUELAYER_API_URL") or _default_api_url
for _name, _url in (
    ("TRUELAYER_AUTH_URL", TRUELAYER_AUTH_URL),
    ("TRUELAYER_API_URL", TRUELAYER_API_URL),
):
    if not _url.startswith("https://") and not (DEBUG and _url.startswith("http://")):
        raise SystemExit(
            f"Refusing to start: {_name}={_url!r} must be an https:// URL "
            "(http:// only with DJANGO_DEBUG on)."
        )
# Where TrueLayer sends the payer after paying (must be allowed in Console); optional.
TRUELAYER_RETURN_URI = env_str("TRUELAYER_RETURN_URI")
TRUELAYER_TIMEOUT_SECONDS = env_int("TRUELAYER_TIMEOUT_SECONDS", 10)
# Attempts per call (network errors, 5xx, 409, 429), with exponential backoff from this base.
TRUELAYER_MAX_ATTEMPTS = env_int("TRUELAYER_MAX_ATTEMPTS", 4)
TRUELAYER_RETRY_BASE_SECONDS = float(env_str("TRUELAYER_RETRY_BASE_SECONDS", "0.5"))
# Webhook `Tl-Signature` keys are fetched only from these JWKS URLs (exact match on `jku`).
TRUELAYER_WEBHOOK_JKU_ALLOWLIST = env_list(
    "TRUELAYER_WEBHOOK_JKU_ALLOWLIST",
    ["https://webhooks.truelayer.com/.well-known/jwks"]
    if TRUELAYER_MODE == "live"
    else ["https://webhooks.truelayer-sandbox.com/.well-known/jwks"],
)
TRUELAYER_JWKS_CACHE_SECONDS = env_int("TRUELAYER_JWKS_CACHE_SECONDS", 3600)
# Webhook replays: event ids are remembered this many days, and a webhook whose
# X-TL-Webhook-Timestamp is older than that is refused (one window, so no replay slips between
# the two). TrueLayer retries a delivery for up to 72 hours, so keep this above 3.
WEBHOOK_REPLAY_WINDOW_DAYS = env_int("WEBHOOK_REPLAY_WINDOW_DAYS", 7)
if WEBHOOK_REPLAY_WINDOW_DAYS < 4:
    raise SystemExit(
        "Refusing to start: WEBHOOK_REPLAY_WINDOW_DAYS must be at least 4 (TrueLayer retries "
        "webhooks for 72 hours)."
    )
# ... and one sent further than this in the future (clock skew) is refused too.
WEBHOOK_MAX_CLOCK_SKEW_SECONDS = env_int("WEBHOOK_MAX_CLOCK_SKEW_SECONDS", 300)
# Reconciliation (`manage.py reconcile_payments`) asks TrueLayer about an open payment once it
# has not changed for this long, or once its link has expired.
RECONCILE_STALE_AFTER_MINUTES = env_int("RECONCILE_STALE_AFTER_MINUTES", 30)
# The simulator signs its webhooks with its own key; its `jku` (never fetched over the network:
# resolved in-process) is allowed only in simulator mode.
TRUELAYER_SIMULATOR_JKU = "https://simulator.payments-dashboard.invalid/.well-known/jwks"
TRUELAYER_SIMULATOR_BASE_URL = env_str("TRUELAYER_SIMULATOR_BASE_URL", "http://127.0.0.1:8000")
# Who creates payment links (a dotted path, as EMAIL_BACKEND): payments/ never imports the
# simulator. And JWKS resolved in-process instead of fetched: `jku` -> dotted path of a function
# returning the JWKS. Both name the simulator only in simulator mode, which needs DEBUG (above).
TRUELAYER_PROVIDER = "payments.truelayer.provider.TrueLayerProvider"
TRUELAYER_LOCAL_JWKS: dict[str, str] = {}
if TRUELAYER_MODE == "simulator":
    TRUELAYER_PROVIDER = "simulator.provider.SimulatorProvider"
    TRUELAYER_LOCAL_JWKS = {TRUELAYER_SIMULATOR_JKU: "simulator.keys.public_jwks"}
    TRUELAYER_WEBHOOK_JKU_ALLOWLIST = [*TRUELAYER_WEBHOOK_JKU_ALLOWLIST, TRUELAYER_SIMULATOR_JKU]
# Largest amount the "New payment" form accepts, in major units of any currency.
try:
    from decimal import Decimal, InvalidOperation

    PAYMENTS_MAX_AMOUNT = Decimal(env_str("PAYMENTS_MAX_AMOUNT", "10000"))
    if not PAYMENTS_MAX_AMOUNT.is_finite() or PAYMENTS_MAX_AMOUNT <= 0:
        raise InvalidOperation
except InvalidOperation:
    raise SystemExit("Refusing to start: PAYMENTS_MAX_AMOUNT must be a positive amount.") from None

# Invitation emails (accounts/emails.py): SMTP when EMAIL_HOST is set, the console with DEBUG on;
# otherwise none are sent and the owner sends the link the members page shows.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT_SECONDS", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Payments <payments@localhost>")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
elif DEBUG:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
INVITATION_EMAILS = bool(EMAIL_HOST) or DEBUG
