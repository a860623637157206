# Shared by scripts/demo and scripts/serve: run Classbook on this machine the way production runs it.
# DEBUG off; the secret key generated once and kept in var/secret_key (owner only); gunicorn serving the
# WSGI application, WhiteNoise the collected static files (hashed names, long cache headers); the task
# worker (manage.py worker: db_worker that recovers) alongside, stopped with it.
# Usage, after _venv.sh:  source scripts/_serve.sh; serve_setup; <migrate...>; serve_wait_static; serve_run FUNCTION
# (serve_setup: the key, compiled translations, static files collected in the background)
# (FUNCTION prints what to say once the server answers).

VAR="${CLASSBOOK_VAR_DIR:-$ROOT/var}"
mkdir -p "$VAR"
VAR="$(cd "$VAR" && pwd)"
export CLASSBOOK_VAR_DIR="$VAR"
export DEBUG=0
export STATIC_MANIFEST=1
export STATIC_ROOT="${STATIC_ROOT:-$VAR/static}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
export ALLOWED_HOSTS="${ALLOWED_HOSTS:-127.0.0.1,localhost,[::1]}"
if [ "$HOST" = 0.0.0.0 ] || [ "$HOST" = "::" ]; then URL_HOST=127.0.0.1; else URL_HOST="$HOST"; fi
URL="http://${URL_HOST}:${PORT}/"

serve_setup() {
  # The secret key: the operator's SECRET_KEY or SECRET_KEY_FILE if set, else var/secret_key, created once.
  if [ -z "${SECRET_KEY:-}" ] && [ -z "${SECRET_KEY_FILE:-}" ]; then
    python -m classbook.core.secret_key "$VAR/secret_key"
    export SECRET_KEY_FILE="$VAR/secret_key"
  fi
  # The static files in the background while the database is migrated; collectstatic (hashing and
  # compressing every file takes seconds) runs again only when the static files or the dependencies change.
  local stamp
  stamp="static-$( { sha256sum pyproject.toml; find classbook -path '*/static/*' -type f -printf '%p %s %T@\n' | sort; } | sha256sum | cut -c1-16)"
  STATIC_PID=""
  if [ ! -f "$STATIC_ROOT/.$stamp" ]; then
    (python manage.py collectstatic --no-input --clear -v 0 && touch "$STATIC_ROOT/.$stamp") &
    STATIC_PID=$!
  fi
  python manage.py compilemessages --ignore=.venv -v 0
}

serve_wait_static() {
  if [ -n "$STATIC_PID" ]; then wait "$STATIC_PID"; fi
}

serve_stop() {
  trap - EXIT INT TERM
  kill -TERM "${WEB_PID:-}" "${WORKER_PID:-}" 2>/dev/null || true
  wait "${WEB_PID:-}" "${WORKER_PID:-}" 2>/dev/null || true
}

serve_run() {
  trap serve_stop EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  # The workers' request counters for /metrics, summed at each scrape (core/metrics.py); fresh each start.
  export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-$VAR/metrics}"
  rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
  # GUNICORN_CMD_ARGS adds gunicorn options (e.g. "--access-logfile -"); WEB_CONCURRENCY sets the workers.
  gunicorn classbook.wsgi:application --bind "${HOST}:${PORT}" --workers "${WEB_CONCURRENCY:-2}" \
    --graceful-timeout 10 --worker-tmp-dir /dev/shm --no-control-socket &
  WEB_PID=$!
  # The task worker sends the notifications (e-mail, Telegram): see docs/notifications.md.
  python manage.py worker --interval 1 --no-reload &
  WORKER_PID=$!
  local tries=0
  until (exec 3<>"/dev/tcp/${URL_HOST}/${PORT}") 2>/dev/null; do
    if ! kill -0 "$WEB_PID" 2>/dev/null || [ $tries -ge 600 ]; then
      echo "Classbook did not start on ${HOST}:${PORT} (is the port in use?)" >&2
      exit 1
    fi
    tries=$((tries + 1))
    sleep 0.1
  done
  echo
  "$1"
  # Either process ending (a crash, a signal) stops the other: the EXIT trap.
  wait -n "$WEB_PID" "$WORKER_PID"
}
