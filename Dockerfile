FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# WeasyPrint's Pango stack and fonts; git for deploy.secrets_in_repo (clones and bundles).
RUN apt-get update && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core shared-mime-info git \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml ./
RUN pip install --no-cache-dir . && rm -rf build *.egg-info
COPY . .
RUN SECRET_KEY=build-only python manage.py collectstatic --noinput
# var/media exists and belongs to app before a volume is mounted there (a new volume copies its owner).
RUN useradd --create-home app && mkdir -p /app/var/media && chown -R app /app/var
USER app
EXPOSE 8000
CMD ["gunicorn", "launchready.wsgi", "--bind", "0.0.0.0:8000", "--workers", "2", "--no-control-socket"]
