#!/usr/bin/env bash
# RSS of an idle `tidings serve` holding N schedules (daily at 03:00 UTC, so nothing runs during
# the measurement), on SQLite. Prints one JSON object.
# Usage: bench/memory.sh [SCHEDULES] [IDLE_SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
schedules="${1:-10000}"
idle="${2:-10}"
cargo build --release -q -p tidings -p tidings-bench
dir="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
./target/release/tidings-bench seed --database-url "sqlite://$dir/tidings.db" --schedules "$schedules" >&2
./target/release/tidings serve --listen 127.0.0.1:0 --database-url "sqlite://$dir/tidings.db" \
  >"$dir/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do grep -q "listening on" "$dir/serve.log" && break; sleep 0.1; done
sleep "$idle"
rss_kib=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
printf '{"benchmark":"memory","scheduler":"tidings serve (SQLite)","schedules":%s,"idle_seconds":%s,"rss_mib":%.1f}\n' \
  "$schedules" "$idle" "$(echo "$rss_kib / 1024" | bc -l)"
