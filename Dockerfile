# MiniPOS server image: `docker build -t minipos .` (docs/deploy.md).
# SQLite by default, kept with its API key pepper in the /data volume; for PostgreSQL set
# MINIPOS_DATABASE_URL and MINIPOS_SECRET_KEY at run time (deploy/compose.yaml). No secret is
# baked in: the pepper is made on first start inside the volume, or comes from the environment.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MINIPOS_DATABASE_URL=sqlite:////data/minipos.sqlite3 \
    MINIPOS_SECRET_FILE=/data/minipos.secret \
    MINIPOS_TIMEZONE=Europe/Riga

# A fixed uid, so a bind-mounted /data can be chowned to it on the host.
RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin minipos \
    && install -d -o minipos -g minipos -m 0700 /data

WORKDIR /build
COPY pyproject.toml README.md ./
COPY src ./src
# The package and its pinned-by-range dependencies from wheels; the sources go afterwards.
RUN pip install --no-cache-dir . && rm -rf /build

USER minipos
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000

# /health reads the database, so it fails when the data volume or PostgreSQL does.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/health', timeout=4)"]

# `docker stop` sends SIGTERM: uvicorn stops accepting and lets requests in flight finish
# (up to 10 s; give the container more with `docker stop -t 30` / compose stop_grace_period).
STOPSIGNAL SIGTERM
CMD ["minipos", "serve", "--host", "0.0.0.0", "--port", "8000"]
