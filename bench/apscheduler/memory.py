"""APScheduler 3 beside an idle `tidings serve`: RSS with N jobs scheduled (daily at 03:00,
so nothing runs during the measurement), SQLAlchemy job store on SQLite, like the seeds.

    python memory.py --jobs 10000
"""

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import timezone

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler


def noop():
    pass


def rss_kib():
    with open(f"/proc/{os.getpid()}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--idle", type=float, default=5.0)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="apscheduler-mem-")
    store = SQLAlchemyJobStore(url=f"sqlite:///{os.path.join(folder, 'jobs.sqlite')}")
    scheduler = BackgroundScheduler(jobstores={"default": store}, timezone=timezone.utc)
    scheduler.start()
    for i in range(args.jobs):
        scheduler.add_job(noop, "cron", hour=3, minute=0, id=f"mem-{i:05d}")
    time.sleep(args.idle)
    print(json.dumps({"benchmark": "memory", "scheduler": "APScheduler 3", "jobs": args.jobs,
                      "rss_mib": round(rss_kib() / 1024.0, 1)}))
    scheduler.shutdown(wait=False)


if __name__ == "__main__":
    main()
