import os

from django.core.asgi import get_asgi_application

from payments_dashboard.env import load_env_file

load_env_file()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "payments_dashboard.settings")
application = get_asgi_application()
