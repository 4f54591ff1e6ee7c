"""APScheduler 3 beside `tidings-bench fire`: N jobs due in the same second.

The seeds' setup: a BackgroundScheduler with a SQLAlchemy job store on SQLite and the default
thread pool (10 threads). Each job records how late it started. Prints one JSON object, like
`tidings-bench fire`.

    python fire.py --jobs 10000 [--misfire-grace 1|none]
"""

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

LATENESS = []
LOCK = threading.Lock()
DONE = threading.Event()
EXPECTED = 0


def job(due_epoch):
    late = time.time() - due_epoch
    with LOCK:
        LATENESS.append(late * 1000.0)
        if len(LATENESS) >= EXPECTED:
            DONE.set()


def percentile(values, p):
    if not values:
        return None
    rank = round(p / 100.0 * (len(values) - 1))
    return values[min(rank, len(values) - 1)]


def main():
    global EXPECTED
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--misfire-grace", default="1", help="seconds, or 'none' for unlimited")
    parser.add_argument("--wait", type=float, default=60.0, help="give up after this many seconds")
    args = parser.parse_args()
    EXPECTED = args.jobs
    grace = None if args.misfire_grace == "none" else int(args.misfire_grace)

    folder = tempfile.mkdtemp(prefix="apscheduler-bench-")
    store = SQLAlchemyJobStore(url=f"sqlite:///{os.path.join(folder, 'jobs.sqlite')}")
    scheduler = BackgroundScheduler(jobstores={"default": store}, timezone=timezone.utc)
    scheduler.start(paused=True)
    setup = time.time()
    # Adding a job writes it to the SQLite store (about 8 ms each here), so the common due time
    # is set far enough ahead for all of them to be added first.
    due = datetime.fromtimestamp(int(time.time()) + 10 + args.jobs * 15 // 1000, tz=timezone.utc)
    for i in range(args.jobs):
        scheduler.add_job(
            job,
            "cron",
            hour=due.hour,
            minute=due.minute,
            second=due.second,
            args=[due.timestamp()],
            id=f"bench-{i:05d}",
            misfire_grace_time=grace,
            coalesce=True,
            max_instances=1,
        )
    setup = time.time() - setup
    print(f"added {args.jobs} jobs in {setup:.1f}s; all due at {due.isoformat()}", file=sys.stderr)
    if time.time() >= due.timestamp():
        sys.exit("adding the jobs took past their due time; retry with fewer jobs")
    scheduler.resume()
    DONE.wait(timeout=(due.timestamp() - time.time()) + args.wait)
    # Let stragglers that are still running finish before counting.
    time.sleep(1.0)
    scheduler.shutdown(wait=False)
    with LOCK:
        lateness = sorted(LATENESS)
    result = {
        "benchmark": "fire",
        "scheduler": "APScheduler 3 (SQLAlchemyJobStore on SQLite, default thread pool)",
        "jobs": args.jobs,
        "misfire_grace_time": grace,
        "ran": len(lateness),
        "dropped": args.jobs - len(lateness),
        "lateness_ms": {
            "p50": percentile(lateness, 50),
            "p99": percentile(lateness, 99),
            "max": lateness[-1] if lateness else None,
        },
        "all_ran_after_ms": lateness[-1] if len(lateness) == args.jobs else None,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
