#!/bin/sh
# BENCHMARKS.md, "Several instances on PostgreSQL": tidings and graphile-worker draining the same
# queue on the same PostgreSQL, one after the other, then enqueue rate, pickup latency and fire
# lateness with several `tidings serve` processes. JSON lines on stdout.
#   crates/tidings-bench/scripts/cluster.sh [ROUNDS]      # PG_URL, default postgres://postgres@127.0.0.1:5432/test
# Needs `cargo build --release -p tidings -p tidings-bench` and node ≥ 20 with npm.
set -eu
cd "$(dirname "$0")/../../.."
ROUNDS=${1:-3}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}
BENCH=./target/release/tidings-bench
TIDINGS=./target/release/tidings
JOBS=50000
round=1
while [ "$round" -le "$ROUNDS" ]; do
    for n in 1 3; do
        $BENCH cluster-drain --postgres-url "$PG_URL" --tidings "$TIDINGS" --runs $JOBS --instances $n --concurrency 10
        bench/graphile/run.sh --url "$PG_URL" --jobs $JOBS --workers $n --concurrency 10
    done
    round=$((round + 1))
done
$BENCH enqueue --postgres-url "$PG_URL" --tidings "$TIDINGS" --requests 5000 --clients 16
$BENCH pickup --postgres-url "$PG_URL" --tidings "$TIDINGS" --runs 500
round=1
while [ "$round" -le "$ROUNDS" ]; do
    $BENCH cluster-fire --postgres-url "$PG_URL" --tidings "$TIDINGS" --schedules 10000 --instances 3 --concurrency 10
    round=$((round + 1))
done
