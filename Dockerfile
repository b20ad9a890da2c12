# mnemo's REST service (and, with another command, its worker). Not built or run in
# CI here (no Docker on the project's machines); see docs/deploy.md.
FROM python:3.11-slim

# XDG_CACHE_HOME: where the default embedder's ONNX graphs live (docs/embedders.md); they
# are built into the image, so a container neither rebuilds them nor needs to write there.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 XDG_CACHE_HOME=/app/cache
WORKDIR /app
COPY pyproject.toml README.md ./
COPY mnemo ./mnemo
RUN pip install ".[service]" && useradd --system --uid 10001 mnemo \
  && python -c "import asyncio; from mnemo.providers.embedders import E5Embedder; asyncio.run(E5Embedder().open())"
USER mnemo

ENV MNEMO_HOST=0.0.0.0 MNEMO_PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/v1/health/ready')"
CMD ["mnemo", "serve"]
