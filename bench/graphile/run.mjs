// graphile-worker's side of BENCHMARKS.md, "Several instances on PostgreSQL": N no-op jobs
// added before any worker starts, then W worker processes (concurrency C each) drain them.
//
//   node run.mjs --url postgres://postgres@127.0.0.1:5432/test --jobs 50000 --workers 3 --concurrency 10
//
// A fresh database (graphile_bench_<pid>) is created next to the one in --url and dropped at the
// end. Rate = jobs / (first `job:start` → last `job:complete`, over all worker processes), the
// same span tidings-bench reads from its runs table (min started_at → max finished_at).
// `job:complete` is emitted once the result is written back to the database. Prints one JSON
// object on stdout.
import { fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import pg from "pg";
import { Logger, makeWorkerUtils, run, runMigrations } from "graphile-worker";

const now = () => performance.timeOrigin + performance.now();

// Warnings and errors only: the default logger prints a line per job, which tidings does not.
const logger = new Logger(() => (level, message) => {
  if (level === "error" || level === "warning") console.error(`[graphile ${level}] ${message}`);
});

function args() {
  const out = { url: "postgres://postgres@127.0.0.1:5432/test", jobs: 50000, workers: 1, concurrency: 10 };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "");
    if (!(key in out)) throw new Error(`unknown flag --${key}`);
    out[key] = key === "url" ? argv[i + 1] : Number(argv[i + 1]);
  }
  return out;
}

async function worker() {
  const { connectionString, concurrency } = JSON.parse(process.env.GRAPHILE_BENCH_WORKER);
  let first = null;
  let last = null;
  let completed = 0;
  const runner = await run({
    connectionString,
    concurrency,
    noHandleSignals: true,
    logger,
    taskList: { noop: async () => {} },
  });
  runner.events.on("job:start", () => {
    if (first === null) first = now();
  });
  runner.events.on("job:complete", ({ error }) => {
    if (!error) completed += 1;
    last = now();
  });
  process.on("message", async (message) => {
    if (message === "report") {
      process.send({ first, last, completed });
    } else if (message === "stop") {
      await runner.stop();
      process.exit(0);
    }
  });
  process.send("ready");
}

async function main() {
  const opts = args();
  const admin = new pg.Client({ connectionString: opts.url });
  await admin.connect();
  const database = `graphile_bench_${process.pid}`;
  await admin.query(`DROP DATABASE IF EXISTS ${database}`);
  await admin.query(`CREATE DATABASE ${database}`);
  const url = new URL(opts.url);
  url.pathname = `/${database}`;
  const connectionString = url.toString();
  try {
    await runMigrations({ connectionString, logger });
    const utils = await makeWorkerUtils({ connectionString, logger });
    const added = now();
    const batch = 5000;
    for (let i = 0; i < opts.jobs; i += batch) {
      const specs = [];
      for (let j = i; j < Math.min(opts.jobs, i + batch); j++) specs.push({ identifier: "noop", payload: {} });
      await utils.addJobs(specs);
    }
    const addSeconds = (now() - added) / 1000;
    await utils.release();
    console.error(`added ${opts.jobs} jobs in ${addSeconds.toFixed(2)} s (addJobs, batches of ${batch})`);

    const db = new pg.Client({ connectionString });
    await db.connect();
    const children = [];
    for (let w = 0; w < opts.workers; w++) {
      const child = fork(new URL(import.meta.url).pathname, [], {
        env: { ...process.env, GRAPHILE_BENCH_WORKER: JSON.stringify({ connectionString, concurrency: opts.concurrency }) },
      });
      children.push(child);
    }
    const remaining = async () =>
      Number((await db.query("SELECT count(*) AS n FROM graphile_worker._private_jobs")).rows[0].n);
    const started = now();
    while ((await remaining()) > 0) {
      if (now() - started > 600_000) throw new Error("jobs still queued after 600 s");
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 300));
    const reports = await Promise.all(
      children.map(
        (child) =>
          new Promise((resolve) => {
            const onMessage = (m) => {
              if (typeof m === "object") {
                child.off("message", onMessage);
                resolve(m);
              }
            };
            child.on("message", onMessage);
            child.send("report");
          }),
      ),
    );
    await Promise.all(
      children.map((child) => new Promise((resolve) => { child.once("exit", resolve); child.send("stop"); })),
    );
    await db.end();
    const first = Math.min(...reports.map((r) => r.first ?? Infinity));
    const last = Math.max(...reports.map((r) => r.last ?? -Infinity));
    const completed = reports.reduce((sum, r) => sum + r.completed, 0);
    const seconds = (last - first) / 1000;
    console.log(
      JSON.stringify({
        benchmark: "graphile-drain",
        graphile_worker: JSON.parse(readFileSync(new URL("./node_modules/graphile-worker/package.json", import.meta.url))).version,
        jobs: opts.jobs,
        workers: opts.workers,
        concurrency: opts.concurrency,
        completed,
        per_worker: reports.map((r) => r.completed),
        add_seconds: addSeconds,
        seconds,
        jobs_per_second: completed / seconds,
      }),
    );
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}

if (process.env.GRAPHILE_BENCH_WORKER) {
  worker().catch((e) => { console.error(e); process.exit(1); });
} else {
  main().catch((e) => { console.error(e); process.exit(1); });
}
