#!/usr/bin/env bash
# Installs APScheduler 3 (the seeds' scheduler) into bench/.venv and runs the comparison
# scripts: fire lateness with the default 1 s misfire grace and with none, and idle memory.
# Usage: bench/apscheduler.sh [JOBS]
set -euo pipefail
cd "$(dirname "$0")"
jobs="${1:-10000}"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet -r apscheduler/requirements.txt
fi
.venv/bin/python apscheduler/fire.py --jobs "$jobs" --misfire-grace 1
.venv/bin/python apscheduler/fire.py --jobs "$jobs" --misfire-grace none
.venv/bin/python apscheduler/memory.py --jobs "$jobs"
