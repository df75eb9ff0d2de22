# syntax=docker/dockerfile:1
# One image, three processes (README "Production"):
#   web      the default CMD (gunicorn on $PORT), checked by the HEALTHCHECK below
#   worker   python manage.py qcluster            (django-q2 with its ORM broker: the syncs)
#   release  python manage.py migrate --no-input && python manage.py setup_schedules
#            once per deploy, before the new web and worker start (compose's `release` service, Railway's
#            preDeployCommand); migrations also create the database cache table.
# Both stages build on one base, named down to its Debian release. To pin it by digest, append the
# `@sha256:...` that `docker buildx imagetools inspect python:3.11-slim-bookworm` prints to both FROM lines.
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
RUN python -m venv /venv
# requirements.txt resolved, every file by its sha256 (`make lock`): pip refuses anything unlisted or altered.
COPY requirements.lock .
RUN /venv/bin/pip install --require-hashes -r requirements.lock
# Only what the processes run (the sandbox, tests, their settings and benchmarks are development tooling:
# .dockerignore).
COPY manage.py ./
COPY bridge bridge/
COPY bots bots/
COPY templates templates/
COPY scripts/healthcheck.py scripts/
# collectstatic needs settings to load, not real secrets.
RUN SECRET_KEY=collectstatic-only DATABASE_URL=sqlite:////tmp/build.sqlite3 /venv/bin/python manage.py collectstatic --no-input
# The runtime user cannot write __pycache__ next to the code: compile it here.
RUN /venv/bin/python -m compileall -q manage.py bridge bots scripts

FROM python:3.11-slim-bookworm
ENV PYTHONUNBUFFERED=1 PATH="/venv/bin:$PATH" PORT=8000 LOG_FORMAT=json
RUN useradd --create-home --uid 10001 bridge
WORKDIR /app
# The code, the virtualenv and the static files belong to root: the processes run as `bridge`, read them and cannot
# change them (tests/test_production_image.py). They write only to stdout (logs), the database, /tmp (gunicorn's
# worker heartbeats) and /home/bridge (gunicorn's control socket), so DATABASE_URL must name a database server,
# not a SQLite file under /app.
COPY --from=build /venv /venv
COPY --from=build /app /app
USER bridge
EXPOSE 8000
# /health answers 503 while the database or Hummingbot is down; the worker runs with this check disabled.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD ["python", "scripts/healthcheck.py"]
CMD ["sh", "-c", "exec gunicorn bridge.wsgi:application --bind 0.0.0.0:${PORT} --workers ${WEB_CONCURRENCY:-3} --timeout 60 --access-logfile -"]
