#!/usr/bin/env bash
# `make demo`: the panel on 127.0.0.1:8000 against the Hummingbot API SANDBOX (sandbox/) on 127.0.0.1:8001
# (PANEL_PORT and SANDBOX_PORT move them).
# SQLite and django-q2's ORM broker: nothing else to install or run.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${DEMO_PYTHON:-.venv/bin/python}"
DEMO_VAR="${DEMO_VAR:-var}"

export DEBUG=1
PANEL_PORT="${PANEL_PORT:-8000}"
SANDBOX_PORT="${SANDBOX_PORT:-8001}"
export HUMMINGBOT_API_URL="http://127.0.0.1:${SANDBOX_PORT}"
export HUMMINGBOT_API_USERNAME=admin
export HUMMINGBOT_API_PASSWORD="${DEMO_SANDBOX_PASSWORD:-$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(16))')}"
export HUMMINGBOT_SANDBOX=1

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

"$PYTHON" manage.py migrate --no-input >/dev/null
"$PYTHON" manage.py demo_admin

"$PYTHON" -m sandbox --host 127.0.0.1 --port "${SANDBOX_PORT}" &
pids+=($!)
"$PYTHON" manage.py setup_schedules
mkdir -p "$DEMO_VAR"
# Each background job is one process, so the $! that cleanup kills is the process itself.
"$PYTHON" manage.py qcluster >"$DEMO_VAR/qcluster.log" 2>&1 &
pids+=($!)

for _ in $(seq 50); do "$PYTHON" manage.py check_hummingbot >/dev/null 2>&1 && break; sleep 0.2; done
"$PYTHON" manage.py check_hummingbot

echo
echo "  Trading Bridge panel: http://127.0.0.1:${PANEL_PORT}/admin/   (Hummingbot: SANDBOX on 127.0.0.1:${SANDBOX_PORT})"
echo "  API docs:             http://127.0.0.1:${PANEL_PORT}/api/docs"
echo "  Stop with Ctrl-C."
echo
"$PYTHON" manage.py runserver "127.0.0.1:${PANEL_PORT}" --noreload &
pids+=($!)
wait "${pids[-1]}"
