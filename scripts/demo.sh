#!/usr/bin/env bash
# `make demo`: the panel on 127.0.0.1:8000 against the Hummingbot API SANDBOX (sandbox/) on 127.0.0.1:8001
# (PANEL_PORT and SANDBOX_PORT move them; README "make demo" lists every variable).
# SQLite and django-q2's ORM broker: nothing else to install or run. The database and the sandbox's state both
# live in var/, so a restart finds the accounts and bots the database refers to, and `rm -rf var/` resets both.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${DEMO_PYTHON:-.venv/bin/python}"
DEMO_VAR="${DEMO_VAR:-var}"
mkdir -p "$DEMO_VAR"
DEMO_VAR="$(cd "$DEMO_VAR" && pwd)"

export DJANGO_SETTINGS_MODULE=bridge.settings DEBUG=1
export DATABASE_URL="${DATABASE_URL:-sqlite:///${DEMO_VAR}/demo.sqlite3}"
PANEL_PORT="${PANEL_PORT:-8000}"
SANDBOX_PORT="${SANDBOX_PORT:-8001}"
export HUMMINGBOT_API_URL="http://127.0.0.1:${SANDBOX_PORT}"
export HUMMINGBOT_API_USERNAME=admin
export HUMMINGBOT_API_PASSWORD="${DEMO_SANDBOX_PASSWORD:-$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(16))')}"
export HUMMINGBOT_SANDBOX=1

# Ctrl-C, `kill <pid>` and a closed terminal all end the script, and its exit stops and reaps every child with
# one SIGTERM each. Job control (set -m) gives each background job its own process group, so the terminal's
# SIGINT/SIGHUP reach the script alone: a second signal while the qcluster stops makes it hang (django-q2 1.11
# re-enters Cluster.stop from its signal handler). Without job control stdin is not /dev/null: the jobs say so.
set -m
pids=()
stop_children() { trap - EXIT; kill "${pids[@]}" 2>/dev/null || true; wait; }
trap stop_children EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

"$PYTHON" manage.py migrate --no-input >/dev/null
"$PYTHON" manage.py demo_admin

"$PYTHON" -m sandbox --host 127.0.0.1 --port "${SANDBOX_PORT}" --state-file "$DEMO_VAR/sandbox-state.json" </dev/null &
pids+=($!)
"$PYTHON" manage.py setup_schedules
"$PYTHON" manage.py setup_desk_roles >/dev/null  # groups "Desk viewer" and "Desk operator"
# Each background job is one process, so the $! that stop_children kills is the process itself.
"$PYTHON" manage.py qcluster </dev/null >"$DEMO_VAR/qcluster.log" 2>&1 &
pids+=($!)

for _ in $(seq 50); do "$PYTHON" manage.py check_hummingbot >/dev/null 2>&1 && break; sleep 0.2; done
"$PYTHON" manage.py check_hummingbot

echo
echo "  Trading Bridge panel: http://127.0.0.1:${PANEL_PORT}/admin/   (Hummingbot: SANDBOX on 127.0.0.1:${SANDBOX_PORT})"
echo "  API docs:             http://127.0.0.1:${PANEL_PORT}/api/docs"
echo "  Stop with Ctrl-C."
echo
"$PYTHON" manage.py runserver "127.0.0.1:${PANEL_PORT}" --noreload </dev/null &
pids+=($!)
wait "${pids[-1]}"
