#!/usr/bin/env bash
# GET /api/feedback: tidings (the release `tidings serve`, SQLite and PostgreSQL) against the seed's
# FastAPI + sqlite3 app, on the same records, with the same load tool and settings, one after the
# other. See BENCHMARKS.md, "Feedback API".
#
#   cargo build --release -p tidings
#   crates/tidings-bench/scripts/feedback_vs_fastapi.sh [FASTAPI_DIR]
#
# FASTAPI_DIR: the baseline app (app.py, gen_data.py, requirements.txt); default
# ../shared/bench/fastapi_feedback next to the workspace. It is copied into $WORK (default
# /tmp/tidings-feedback-bench), never into the repository. Needs python3, wrk, and for the
# PostgreSQL run a server at $PG_ADMIN_URL (a database `tidings_feedback_bench` is created and
# dropped). Environment: WRK_ARGS (default "-t2 -c16 -d10s --timeout 30s": the timeout only keeps
# wrk from dropping slow answers from its figures), BACKENDS (default "sqlite postgres"),
# SKIP_FASTAPI=1, QUIET=1 (before each measurement, wait until the machine has been 90 % idle for
# 5 s: for a machine shared with builds and tests).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
FASTAPI_DIR=${1:-$ROOT/../shared/bench/fastapi_feedback}
WORK=${WORK:-/tmp/tidings-feedback-bench}
WRK_ARGS=${WRK_ARGS:--t2 -c16 -d10s --timeout 30s}
BACKENDS=${BACKENDS:-sqlite postgres}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PG_DB=tidings_feedback_bench
PG_URL=${PG_ADMIN_URL%/*}/$PG_DB
TIDINGS=${TIDINGS:-$ROOT/target/release/tidings}
FASTAPI_PORT=8000
TIDINGS_PORT=18090
LIMITS="5000 100"

command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 1; }
[ -x "$TIDINGS" ] || { echo "build first: cargo build --release -p tidings" >&2; exit 1; }
mkdir -p "$WORK/results"
SERVER_PID=

stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
}
trap stop_server EXIT

wait_for() { # URL [HEADER]
    for _ in $(seq 1 100); do
        if curl -fsS -o /dev/null ${2:+-H "$2"} "$1" 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "no answer from $1" >&2
    exit 1
}

# Percent of CPU time idle over the next second, all cores.
idle_percent() {
    local -a a b
    read -r -a a </proc/stat
    sleep 1
    read -r -a b </proc/stat
    local total=0 i
    for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
    echo $((100 * (b[4] + b[5] - a[4] - a[5]) / (total > 0 ? total : 1)))
}

# With QUIET=1: waits until the machine has been at least 90 % idle for 5 s in a row.
wait_quiet() {
    local calm=0
    while [ -n "${QUIET:-}" ] && [ $calm -lt 5 ]; do
        if [ "$(idle_percent)" -ge 90 ]; then calm=$((calm + 1)); else calm=0; fi
    done
}

# wrk, its output kept; prints "label requests/s p99 (start–end)".
measure() { # LABEL URL [HEADER]
    local label=$1 url=$2 out="$WORK/results/$1.txt" started
    wait_quiet
    started=$(date +%T)
    # Warm-up, then the measurement.
    wrk -t2 -c16 -d2s ${3:+-H "$3"} "$url" >/dev/null
    # shellcheck disable=SC2086 # WRK_ARGS is a list of flags
    wrk $WRK_ARGS --latency ${3:+-H "$3"} "$url" >"$out"
    local rps p99 errors
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
    p99=$(awk '$1 == "99%" {print $2}' "$out")
    errors=$(grep -E 'Non-2xx|Socket errors' "$out" || true)
    printf '%-28s %10s req/s   p99 %8s   (%s-%s) %s\n' "$label" "$rps" "$p99" "$started" \
        "$(date +%T)" "$errors"
}

# --- the baseline app and the records ------------------------------------------------------
mkdir -p "$WORK/fastapi"
cp "$FASTAPI_DIR"/app.py "$FASTAPI_DIR"/gen_data.py "$FASTAPI_DIR"/requirements.txt "$WORK/fastapi/"
cd "$WORK/fastapi"
if [ ! -x .venv/bin/uvicorn ]; then
    python3 -m venv .venv
    .venv/bin/pip install -q -r requirements.txt
fi
.venv/bin/python gen_data.py --records 5800 --seed 7 --sqlite feedback.db --csv feedback.csv \
    --jsonl feedback.jsonl
# The app serves the records created in 2025 (its default `year`); tidings gets the same ones.
mkdir -p "$WORK/data"
.venv/bin/python - feedback.csv "$WORK/data/feedback-2025.csv" <<'EOF'
import csv, sys
with open(sys.argv[1], newline="", encoding="utf-8") as f, open(sys.argv[2], "w", newline="", encoding="utf-8") as out:
    rows = csv.reader(f)
    w = csv.writer(out)
    header = next(rows)
    w.writerow(header)
    created = header.index("Created")
    n = 0
    for row in rows:
        if row[created].startswith("2025"):
            w.writerow(row)
            n += 1
print(f"{n} records created in 2025 written for tidings", file=sys.stderr)
EOF

if [ -z "${SKIP_FASTAPI:-}" ]; then
    FEEDBACK_DB=feedback.db .venv/bin/uvicorn app:app --host 127.0.0.1 --port $FASTAPI_PORT \
        --workers 1 --log-level warning &
    SERVER_PID=$!
    wait_for "http://127.0.0.1:$FASTAPI_PORT/api/feedback/?limit=1"
    total=$(curl -fsS "http://127.0.0.1:$FASTAPI_PORT/api/feedback/?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
    echo "FastAPI: $total records"
    for limit in $LIMITS; do
        measure "fastapi-limit$limit" "http://127.0.0.1:$FASTAPI_PORT/api/feedback/?limit=$limit"
    done
    stop_server
fi

# --- tidings --------------------------------------------------------------------------------
cat >"$WORK/tidings.toml" <<EOF
[server]
listen = "127.0.0.1:$TIDINGS_PORT"

[log]
format = "text"

[sources.fb]
kind = "csv"
path = "$WORK/data/feedback-2025.csv"

[sources.fb.mapping]
external_id = "id"
customer_name = "Customer Name"
customer_email = "Customer Email"
group = "Tool"
title = "Summary"
value = "Customer Value"
EOF
export TIDINGS_CONFIG=$WORK/tidings.toml

for backend in $BACKENDS; do
    case $backend in
        sqlite)
            rm -rf "$WORK/sqlite"
            mkdir -p "$WORK/sqlite"
            url="sqlite://$WORK/sqlite/tidings.db"
            ;;
        postgres)
            psql -q "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS $PG_DB" -c "CREATE DATABASE $PG_DB"
            url=$PG_URL
            ;;
        *) echo "unknown backend $backend" >&2; exit 2 ;;
    esac
    "$TIDINGS" migrate --database-url "$url" >/dev/null
    "$TIDINGS" sync fb --full --json --database-url "$url" >"$WORK/results/tidings-$backend-sync.json"
    key=$("$TIDINGS" keys --json create --name bench --role read --database-url "$url" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
    "$TIDINGS" serve --database-url "$url" 2>"$WORK/results/tidings-$backend-serve.log" &
    SERVER_PID=$!
    wait_for "http://127.0.0.1:$TIDINGS_PORT/api/feedback?limit=1" "X-API-Key: $key"
    count=$(curl -fsS -H "X-API-Key: $key" "http://127.0.0.1:$TIDINGS_PORT/api/feedback?limit=10000" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')
    echo "tidings ($backend): $count records"
    for limit in $LIMITS; do
        measure "tidings-$backend-limit$limit" \
            "http://127.0.0.1:$TIDINGS_PORT/api/feedback/?limit=$limit" "X-API-Key: $key"
    done
    stop_server
    if [ "$backend" = postgres ]; then
        psql -q "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS $PG_DB"
    fi
done
echo "wrk outputs: $WORK/results/"
