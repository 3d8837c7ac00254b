# One image for every gridhub process; docker-compose.yml picks the command per service.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY gridhub ./gridhub
COPY connectors ./connectors
COPY streams ./streams
COPY dispatch ./dispatch
COPY wallboard ./wallboard
RUN pip install --no-cache-dir .
USER nobody
CMD ["gridhub", "--help"]
