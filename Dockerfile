# The one image every application service of docker-compose.yml runs; each service picks a script.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHON=python \
    DJANGO_SETTINGS_MODULE=config.settings.production

# WeasyPrint needs Pango; reports use Liberation Serif (metric twin of Times New Roman);
# postgresql-client gives pg_dump/pg_restore for `make backup` / `make restore` inside the container.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b \
      fonts-liberation postgresql-client make \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
RUN useradd --system --uid 10001 --home-dir /app ptdv \
 && mkdir -p /app/var /data/media \
 && chown -R ptdv /app/var /data
USER ptdv
EXPOSE 8000
CMD ["scripts/web"]
