"""Settings for the test suite: debug off (as in production), fixed keys, fast hashing."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault(
    "DJANGO_SECRET_KEY", "test-secret-key-not-for-production-0123456789-abcdefghij"
)
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("AUTH0_DOMAIN", "payments-test.eu.auth0.com")
os.environ.setdefault("AUTH0_CLIENT_ID", "test-client-id")
os.environ.setdefault("AUTH0_CLIENT_SECRET", "test-client-secret")
# TrueLayer: "sandbox" with dummy credentials and a signing key made for the tests only (tests
# fake TrueLayer's API with `responses`; tests that need the simulator override settings).
os.environ.setdefault("TRUELAYER_MODE", "sandbox")
os.environ.setdefault("TRUELAYER_CLIENT_ID", "test-truelayer-client")
os.environ.setdefault("TRUELAYER_CLIENT_SECRET", "test-truelayer-secret")
os.environ.setdefault("TRUELAYER_SIGNING_KEY_ID", "8a5b3cd1-test-0000-0000-signingkey01")
os.environ.setdefault("TRUELAYER_MERCHANT_ACCOUNT_ID", "5b7adbc5-test-0000-0000-merchantacc1")
os.environ.setdefault("TRUELAYER_RETRY_BASE_SECONDS", "0")
os.environ.setdefault(
    "TRUELAYER_SIGNING_PRIVATE_KEY",
    "-----BEGIN PRIVATE KEY-----\n"
    "MIHuAgEAMBAGByqGSM49AgEGBSuBBAAjBIHWMIHTAgEBBEIBieunsMXX7LCWgohd\n"
    "ulBTyyNkIezmceyO3o8WmsuY22f6dHTwC/0uhwODYTVg9SWDWIYdiJJUda1ESSND\n"
    "9WIpskyhgYkDgYYABACoBYp+74+c0JHI2YobJM4tbCFHs4WuXFwVXRtLH000kJaU\n"
    "3GPgO73QjkowsllT9iZ4FHfJmrm/AZGPdidChJS5AgD7Df/0yZIi+eE6r12lOHAd\n"
    "c8Qyc6xl38aDvaq8S1cKMiz0XHad8xQ4+POqG2o7Fg6vyGgQJPODlmqmDGEVY0iN\n"
    "tA==\n"
    "-----END PRIVATE KEY-----\n",
)

from payments_dashboard.settings import *  # noqa: E402,F403

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
WHITENOISE_AUTOREFRESH = True  # serve from the finders: no collectstatic before tests
