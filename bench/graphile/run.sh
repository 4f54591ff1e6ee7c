#!/bin/sh
# graphile-worker drain for BENCHMARKS.md ("Several instances on PostgreSQL").
#   bench/graphile/run.sh [--url URL] [--jobs 50000] [--workers 1] [--concurrency 10]
# Installs the pinned graphile-worker from package-lock.json (npm ci), then runs run.mjs.
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error >&2
exec node run.mjs "$@"
