# syntax=docker/dockerfile:1
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
RUN python -m venv /venv
COPY requirements.txt .
RUN /venv/bin/pip install -r requirements.txt
COPY . .
# collectstatic needs settings to load, not real secrets.
RUN SECRET_KEY=collectstatic-only DATABASE_URL=sqlite:////tmp/build.sqlite3 /venv/bin/python manage.py collectstatic --no-input

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PATH="/venv/bin:$PATH" PORT=8000
RUN useradd --create-home --uid 10001 bridge
WORKDIR /app
COPY --from=build /venv /venv
COPY --from=build --chown=bridge:bridge /app /app
USER bridge
EXPOSE 8000
# Migrations run at release time (e.g. `python manage.py migrate` as a release command), not on every boot.
CMD ["sh", "-c", "exec gunicorn bridge.wsgi:application --bind 0.0.0.0:${PORT} --workers ${WEB_CONCURRENCY:-3} --timeout 60 --access-logfile -"]
