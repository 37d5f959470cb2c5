# lcbot in a container: `lcbot run --webhook` on port 8080, settings from the environment.
# Verified with Podman (Docker-format image) against the Bot API stand-in: bench/container-check.sh,
# docs/operations.md#docker.
#
#   docker build -t lcbot .
#   docker run -d --name lcbot --env-file /etc/lcbot/env -v lcbot-data:/data -p 127.0.0.1:8080:8080 lcbot
#
# The FAQ, translations and migrations ship inside the package; mount your own FAQ folder and set
# LCBOT_FAQ_DIR to serve staff's copy. Use PostgreSQL (LCBOT_DATABASE_URL) for several instances, or keep
# the SQLite default in /data: a named volume (it takes /data's owner from the image), or a host folder
# owned by uid 10001.
#
# BASE_IMAGE: any Debian-like image with Python 3.11+ and pip on PATH, e.g. a mirror of python:3.11-slim.
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LCBOT_LISTEN=0.0.0.0:8080 \
    LCBOT_LOG_FORMAT=json \
    LCBOT_DATABASE_URL=sqlite:////data/lcbot.db \
    LCBOT_CACHE_DIR=/home/lcbot/.cache/lcbot

# A fixed uid/gid, so a host folder mounted at /data can be given to it (chown 10001:10001).
RUN groupadd --system --gid 10001 lcbot \
    && useradd --system --uid 10001 --gid lcbot --home-dir /home/lcbot --create-home --shell /usr/sbin/nologin lcbot \
    && install -d -o lcbot -g lcbot -m 0700 /data /home/lcbot/.cache /home/lcbot/.cache/lcbot

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY faq ./faq
COPY locales ./locales
RUN pip install --no-cache-dir --disable-pip-version-check --root-user-action=ignore . \
    && lcbot --help >/dev/null

USER lcbot
WORKDIR /data
# Build the FAQ index and compile the catalogs now, into the cache folder, so that every new container
# starts warm (a FAQ mounted over LCBOT_FAQ_DIR is indexed at its first start and cached then).
RUN python -c "from bot.bootstrap import build_library; from bot.config import Settings; build_library(Settings())" \
    && ls /home/lcbot/.cache/lcbot | grep -q '^faq-index-'

EXPOSE 8080
# Healthy = /healthz answers 200: the database answers and the FAQ is loaded. The port is LCBOT_LISTEN's;
# no proxy (an HTTP_PROXY set for reaching Telegram must not catch this loopback request).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; port = os.environ.get('LCBOT_LISTEN', '').rpartition(':')[2] or '8080'; r.build_opener(r.ProxyHandler({})).open(f'http://127.0.0.1:{port}/healthz', timeout=4)"]
# SIGTERM (docker stop) stops cleanly: no new requests, the updates in hand are answered, then exit 0.
STOPSIGNAL SIGTERM
CMD ["lcbot", "run", "--webhook"]
