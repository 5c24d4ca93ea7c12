"""Settings used only by `collectstatic` while the Docker image is built.

The real settings refuse to start with DEBUG off until Auth0 and TrueLayer are configured, and
those secrets are not (and must not be) present at build time. Collecting static files needs none
of them, so this module imports the settings with DEBUG on (no secrets needed) and then switches
to the production storage, so the image carries the same hashed, compressed files and manifest
that the production settings (DEBUG off) will serve through WhiteNoise.
"""

from __future__ import annotations

import os

os.environ["DJANGO_DEBUG"] = "1"
for _name in list(os.environ):
    if _name.startswith(("AUTH0_", "TRUELAYER_")):
        del os.environ[_name]

from payments_dashboard.settings import *  # noqa: E402,F403

DEBUG = False
STORAGES["staticfiles"]["BACKEND"] = "whitenoise.storage.CompressedManifestStaticFilesStorage"  # noqa: F405
