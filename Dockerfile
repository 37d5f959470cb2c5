# lcbot in a container: `lcbot run --webhook` on port 8080, settings from the environment.
# UNTESTED: no Docker engine runs on the machine where lcbot is developed; see docs/operations.md.
#
#   docker build -t lcbot .
#   docker run --env-file /etc/lcbot/env -p 127.0.0.1:8080:8080 lcbot
#
# The FAQ, translations and migrations ship inside the package; mount your own FAQ folder and set
# LCBOT_FAQ_DIR to serve staff's copy. Use PostgreSQL (LCBOT_DATABASE_URL) rather than the SQLite default,
# or mount a volume at /data for the SQLite file.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    LCBOT_LISTEN=0.0.0.0:8080 \
    LCBOT_LOG_FORMAT=json \
    LCBOT_DATABASE_URL=sqlite:////data/lcbot.db

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY bot ./bot
COPY faq ./faq
COPY locales ./locales
RUN pip install . && useradd --system --home-dir /data --create-home lcbot

USER lcbot
WORKDIR /data
EXPOSE 8080
# Ready = the database answers and the FAQ is loaded.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD python -c "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status != 200)"
# SIGTERM (docker stop) stops cleanly: no new requests, the updates in hand are answered, then exit 0.
STOPSIGNAL SIGTERM
CMD ["lcbot", "run", "--webhook"]
