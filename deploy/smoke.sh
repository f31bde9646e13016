#!/usr/bin/env bash
# Smoke test of the README's "Running in production" runbook, run for real: a fresh venv with
# `pip install '.[production]'`, PostgreSQL, Redis, gunicorn (2 workers), the worker when the command exists, and
# a Chinese browser that must get Chinese. The README's blocks marked <!-- smoke --> and <!-- smoke-check --> are
# executed as written, with /opt/registry, /etc/registry and /var/lib/registry moved into a scratch folder; the
# services are started with the ExecStart lines of deploy/*.service.
#
# Environment: SMOKE_DATABASE_URL (an empty PostgreSQL database; default: create a scratch one as the postgres
# user, which needs root), SMOKE_REDIS_URL (default redis://127.0.0.1:6379/5), SMOKE_KEEP=1 keeps the folder.
set -euo pipefail
SRC="$(cd "$(dirname "$0")/.." && pwd)"
PREFIX="$(mktemp -d /tmp/registry-smoke.XXXXXX)"
REDIS_URL="${SMOKE_REDIS_URL:-redis://127.0.0.1:6379/5}"
PIDS=()
CREATED_DB=""
started=$SECONDS

say() { printf 'smoke: %s\n' "$*" >&2; }
fail() { say "FAILED: $*"; for log in "$PREFIX"/*.log; do [ -f "$log" ] && { say "--- $log"; tail -n 40 "$log" >&2; }; done; exit 1; }

cleanup() {
  say "stopping (at $((SECONDS - started)) s)"
  # INT: gunicorn's quick shutdown (TERM would wait for idle workers' select timeout), a KeyboardInterrupt in Python.
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill -INT "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && wait "$pid" 2>/dev/null || true; done
  if [ -n "$CREATED_DB" ]; then su postgres -c "psql -q -c \"DROP DATABASE IF EXISTS $CREATED_DB\"" >/dev/null 2>&1 || true; fi
  say "stopped (at $((SECONDS - started)) s)"
  if [ -z "${SMOKE_KEEP:-}" ]; then rm -rf "$PREFIX"; else say "kept $PREFIX"; fi
}
trap cleanup EXIT

# The runbook's paths, moved into the scratch folder.
relocate() {
  sed -e "s#/opt/registry/src#$SRC#g" -e "s#/opt/registry#$PREFIX/opt#g" \
      -e "s#/etc/registry#$PREFIX/etc#g" -e "s#/var/lib/registry#$PREFIX/var#g"
}

# The README blocks following a marker line (<!-- smoke --> or <!-- smoke-check -->), indentation removed.
readme_blocks() {
  awk -v marker="<!-- $1 -->" '
    { line = $0; sub(/^[ \t]+/, "", line) }
    line == marker { armed = 1; next }
    armed && !inside && line ~ /^```/ { inside = 1; next }
    inside && line ~ /^```/ { inside = 0; armed = 0; next }
    inside { print line }
  ' "$SRC/README.md" | relocate
}

exec_start() { grep -m1 '^ExecStart=' "$1" | cut -d= -f2- | relocate; }

# ---------------------------------------------------------------- PostgreSQL and Redis
if [ -n "${SMOKE_DATABASE_URL:-}" ]; then
  DATABASE_URL="$SMOKE_DATABASE_URL"
else
  CREATED_DB="registry_smoke_$$"
  su postgres -c "psql -q -c \"CREATE DATABASE $CREATED_DB OWNER registry\"" >/dev/null \
    || fail "cannot create a scratch database (set SMOKE_DATABASE_URL)"
  DATABASE_URL="postgresql://registry:registry@127.0.0.1:5432/$CREATED_DB"
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  say "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis \
    --logfile /var/log/redis/ci.log
  for _ in $(seq 1 20); do redis-cli ping >/dev/null 2>&1 && break; sleep 0.5; done
fi
redis-cli -u "$REDIS_URL" flushdb >/dev/null

# ---------------------------------------------------------------- the settings file (from the shipped example)
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
mkdir -p "$PREFIX/etc" "$PREFIX/var" "$PREFIX/opt"
secret() { python3 -c 'import secrets; print(secrets.token_urlsafe(48))'; }
esc() { printf '%s' "$1" | sed -e 's/[#&\\]/\\&/g'; }  # a value as a sed replacement
relocate < "$SRC/deploy/registry.env.example" | sed \
  -e "s#^SECRET_KEY=.*#SECRET_KEY=$(secret)#" \
  -e "s#^QR_SECRET=.*#QR_SECRET=$(secret)#" \
  -e "s#^PUBLIC_BASE_URL=.*#PUBLIC_BASE_URL=http://127.0.0.1:$PORT#" \
  -e "s#^DATABASE_URL=.*#DATABASE_URL='$(esc "$DATABASE_URL")'#" \
  -e "s#^RATELIMIT_STORAGE_URI=.*#RATELIMIT_STORAGE_URI=$(esc "$REDIS_URL")#" \
  -e "s#^REGISTRY_BIND=.*#REGISTRY_BIND=127.0.0.1:$PORT#" \
  -e "s#^WEB_CONCURRENCY=.*#WEB_CONCURRENCY=2#" \
  -e "s#^SESSION_COOKIE_SECURE=.*#SESSION_COOKIE_SECURE=0#" \
  > "$PREFIX/etc/registry.env"

# ---------------------------------------------------------------- the runbook, as written
say "runbook steps (install, settings, schema, signing key, index)"
readme_blocks smoke > "$PREFIX/runbook.sh"
[ -s "$PREFIX/runbook.sh" ] || fail "no <!-- smoke --> blocks in README.md"
(cd "$PREFIX" && bash -euo pipefail -c "$(cat "$PREFIX/runbook.sh")") > "$PREFIX/runbook.log" 2>&1 \
  || fail "a runbook step failed (see runbook.log)"
say "installed and initialised in $((SECONDS - started)) s"

# ---------------------------------------------------------------- the services, from their units
start_service() {  # name, command
  (set -a; . "$PREFIX/etc/registry.env"; set +a; export PATH="$PREFIX/opt/venv/bin:$PATH"
   cd "$PREFIX/var" && exec bash -c "exec $2") > "$PREFIX/$1.log" 2>&1 &
  PIDS+=("$!")
}
start_service web "$(exec_start "$SRC/deploy/registry-web.service")"
flask_bin="$PREFIX/opt/venv/bin/flask"
with_env() { (set -a; . "$PREFIX/etc/registry.env"; set +a; cd "$PREFIX/var" && "$@"); }
if with_env "$flask_bin" registry worker --help >/dev/null 2>&1; then
  if [ -f "$SRC/deploy/registry-worker.service" ]; then
    start_service worker "$(exec_start "$SRC/deploy/registry-worker.service")"
  else
    start_service worker "$flask_bin registry worker"
  fi
  say "worker started (flask registry worker)"
elif with_env "$flask_bin" search worker --help >/dev/null 2>&1; then
  start_service worker "$flask_bin search worker"
  say "search worker started (flask search worker)"
fi

base="http://127.0.0.1:$PORT"
for _ in $(seq 1 60); do
  curl -fsS -o /dev/null "$base/healthz" 2>/dev/null && break
  kill -0 "${PIDS[0]}" 2>/dev/null || fail "gunicorn exited"
  sleep 0.5
done

# ---------------------------------------------------------------- checks: the README's, then a few more
say "runbook checks"
readme_blocks smoke-check > "$PREFIX/check.sh"
[ -s "$PREFIX/check.sh" ] || fail "no <!-- smoke-check --> blocks in README.md"
(set -a; . "$PREFIX/etc/registry.env"; set +a; bash -euo pipefail "$PREFIX/check.sh") > "$PREFIX/check.log" 2>&1 \
  || fail "a runbook check failed (see check.log)"

health="$(curl -fsS "$base/healthz")"
echo "$health" | python3 -c '
import json, sys
body = json.load(sys.stdin)
assert body["checks"]["database"] == "ok", body
assert body["checks"]["rate_limits"] == {"status": "ok", "storage": "redis"}, body
' || fail "healthz: $health"
headers="$(curl -fsS -D - -o /dev/null -H 'X-Request-ID: smoke-1' "$base/api/v1/certificates")"
grep -qi '^x-request-id: smoke-1' <<<"$headers" || fail "no X-Request-ID echoed"
missing="$(curl -sS -H 'Accept-Language: zh-CN' "$base/certificates/NO-SUCH-NUMBER")"
grep -q '登记' <<<"$missing" || fail "the 404 page is not in Chinese"
sleep 0.5
grep -q '"request_id": "smoke-1"' "$PREFIX/web.log" || fail "no JSON access line with the request id in the web log"
workers="$(grep -c 'Booting worker' "$PREFIX/web.log" || true)"
[ "$workers" -ge 2 ] || fail "expected 2 gunicorn workers, saw $workers"
receipt_key="$(curl -fsS "$base/.well-known/registry-signing-key")"
grep -q "$(with_env "$flask_bin" keys fingerprint)" <<<"$receipt_key" || fail "the served key is not the provisioned one"

say "ok in $((SECONDS - started)) s"
