FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    PREFECT_SERVER_ANALYTICS_ENABLED=false DO_NOT_TRACK=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY newswatch ./newswatch
COPY connectors ./connectors
COPY alerts ./alerts
COPY flows ./flows
RUN pip install --no-cache-dir . && useradd --create-home newswatch
COPY config ./config
COPY seeds ./seeds
RUN mkdir -p /app/data && chown newswatch /app/data

USER newswatch
# exec form, so SIGTERM reaches newswatch itself
CMD ["newswatch", "serve"]
