# One image for every service of docker-compose.yml: newswatch serve, the workers, the one-shot
# migrate and deploy steps, and the Prefect server itself (so server and clients run one Prefect).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    PREFECT_SERVER_ANALYTICS_ENABLED=false DO_NOT_TRACK=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY newswatch ./newswatch
COPY connectors ./connectors
COPY alerts ./alerts
COPY flows ./flows
COPY cli ./cli
RUN pip install --no-cache-dir . && useradd --create-home newswatch
# deployments run flows/monitor.py from /app (prefect.yaml has no pull step: the code is here)
COPY prefect.yaml ./
COPY docker/deploy.sh ./docker/deploy.sh
COPY config ./config
COPY seeds ./seeds
RUN mkdir -p /app/data && chown newswatch /app/data

USER newswatch
# exec form, so SIGTERM reaches newswatch itself (compose adds `init: true` as well)
CMD ["newswatch", "serve"]
