import os

from django.core.wsgi import get_wsgi_application

from payments_dashboard.env import load_env_file

load_env_file()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "payments_dashboard.settings")
application = get_wsgi_application()
