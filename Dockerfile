# The payments dashboard behind gunicorn. Configuration comes from the environment at run time
# (see .env.example); the image holds no secrets.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATA_DIR=/data

WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# Hashed, compressed static files for WhiteNoise. devtools/build_settings.py collects them
# without needing the Auth0/TrueLayer secrets that the real settings demand at start-up.
RUN DJANGO_SETTINGS_MODULE=devtools.build_settings python manage.py collectstatic --noinput \
    && chmod +x docker-entrypoint.sh \
    && useradd --system --uid 10001 --home-dir /app app \
    && mkdir -p /data \
    && chown app /data

USER app
EXPOSE 8000
VOLUME ["/data"]

ENTRYPOINT ["/app/docker-entrypoint.sh"]
CMD ["gunicorn", "payments_dashboard.wsgi:application", "--bind", "0.0.0.0:8000", \
     "--workers", "3", "--timeout", "30", "--access-logfile", "-"]
