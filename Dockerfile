# The application image: web (gunicorn), Celery worker and beat all run from it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_ENV=production

RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# collectstatic needs a key only to import settings; the real one comes from the environment.
RUN SECRET_KEY=build-only-collectstatic python manage.py collectstatic --noinput

RUN useradd --create-home --uid 1000 cem && mkdir -p /app/var && chown -R cem /app/var
USER cem

EXPOSE 8000
CMD ["gunicorn", "cem.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "5", "--access-logfile", "-"]
