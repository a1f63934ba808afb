# keepcab replica image: the live server with the PostgreSQL driver (the scale-out set-up).
# docker-compose.yml builds it once and runs it as the migration job and as every replica.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY dispatch ./dispatch
COPY valuation ./valuation
COPY simulator ./simulator
COPY api ./api
RUN pip install ".[postgres]" && useradd --system --uid 10001 keepcab
USER keepcab

EXPOSE 8000
# Ready means: store reachable and at head, Redis reachable (GET /readyz).
HEALTHCHECK --interval=5s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status != 200)"]
CMD ["uvicorn", "api.app:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000", "--proxy-headers"]
