//! Several `tidings serve` processes on one PostgreSQL, under faults: instances killed with
//! SIGKILL and replaced while 50 schedules fire every second, and every connection of the
//! instances terminated by PostgreSQL. Afterwards the history in the store must
//!
//! - (a) account for every occurrence of every schedule, from its first to the one before its
//!   `next_run_at`, exactly once: one run (executed or `skipped`) or one `missed` record;
//! - (b) leave no run queued, running or leased, and no attempt open;
//! - (c) show every run whose worker was lost rescued and then succeeded on a later attempt;
//! - (d) never have had more attempts of a schedule running at once than its `max_instances`.
//!
//! The history is read with SQL through `psql` (the tool CI itself checks PostgreSQL with): one
//! consistent snapshot of runs and attempts, instants in exact milliseconds, thousands of runs
//! with their attempts in one query. Waits poll the store with a bound; the only plain sleeps
//! are the chaos itself (how long instances live between kills and terminations), which is the
//! workload of these tests, never a wait for the scheduler.
//!
//! Both scenarios start several servers on a two-core CI machine, so they take turns.

use std::collections::{BTreeMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::{Backend, Server, TestDb, text, wait_until};

static TURN: Mutex<()> = Mutex::new(());

/// One scenario at a time; a failed one does not stop the other from running.
fn take_turn() -> MutexGuard<'static, ()> {
    TURN.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Every cluster schedule fires at each second.
const EVERY_SECOND: &str = "*/1 * * * * *";

/// Attempts of one schedule whose recorded spans overlap by less than this are not counted as
/// running at once. Each instant is read outside the transaction that makes it true (a claim
/// reads the clock before it waits for its snapshot, a completion reads it before it commits),
/// so two attempts that the store serialised can appear to overlap by a few milliseconds.
/// Two attempts really running at once overlap by the whole of the shorter job (10 ms at the
/// least, usually hundreds).
const CLOCK_SLACK_MS: i64 = 100;

/// `sql` run by `psql` on `url`: its unaligned, tuples-only output, trimmed.
fn psql(url: &str, sql: &str) -> String {
    let output = Command::new("psql")
        .args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            url,
            "-c",
            sql,
        ])
        .output()
        .unwrap_or_else(|e| panic!("the cluster tests read the store with psql: {e}"));
    assert!(
        output.status.success(),
        "psql failed on {sql}: {}",
        text(&output.stderr)
    );
    text(&output.stdout).trim().to_owned()
}

/// A text as an SQL string literal.
fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

fn count(db: &TestDb, sql: &str) -> i64 {
    let out = psql(&db.url, sql);
    out.parse()
        .unwrap_or_else(|_| panic!("not a number: {out:?} from {sql}"))
}

/// One schedule of a scenario.
struct Spec {
    name: String,
    sleep_ms: u64,
    /// `None`: left to the default, which must be 1.
    max_instances: Option<u32>,
}

/// Creates the schedules with `tidings schedules create`, the first alone (it applies the
/// migrations), the others five at a time.
fn create_schedules(db: &TestDb, specs: &[Spec], extra: &[&str]) {
    let create = |spec: &Spec| {
        let sleep = format!("sleep_ms={}", spec.sleep_ms);
        let max_instances = spec.max_instances.as_ref().map(ToString::to_string);
        let mut args: Vec<&str> = vec![
            "schedules",
            "create",
            "--name",
            &spec.name,
            "--cron",
            EVERY_SECOND,
            "--kind",
            "noop",
            "--param",
            &sleep,
            // Long enough that nothing is missed while one instance lives.
            "--misfire-grace",
            "60s",
            // A run may lose its worker more than once; it must still end up succeeding.
            "--max-attempts",
            "5",
        ];
        if let Some(n) = &max_instances {
            args.extend(["--max-instances", n.as_str()]);
        }
        args.extend_from_slice(extra);
        db.ok(&args);
    };
    let (first, rest) = specs.split_first().unwrap();
    create(first);
    in_parallel(rest, create);
}

/// `tidings schedules disable` for each schedule.
fn disable_schedules(db: &TestDb, specs: &[Spec]) {
    in_parallel(specs, |spec| {
        db.ok(&["schedules", "disable", &spec.name]);
    });
}

/// `work` on every item, on five threads.
fn in_parallel<T: Sync>(items: &[T], work: impl Fn(&T) + Sync) {
    let work = &work;
    let size = items.len().div_ceil(5).max(1);
    thread::scope(|scope| {
        for chunk in items.chunks(size) {
            scope.spawn(move || chunk.iter().for_each(work));
        }
    });
}

/// A running `tidings serve`: its process, address and instance id (the lease owner and the
/// `instance` of the attempts it makes).
struct Instance {
    server: Server,
    addr: SocketAddr,
    id: String,
}

impl Instance {
    /// `tidings serve` in the test's folder (and its `tidings.toml`) on `url`, once listening.
    fn start(db: &TestDb, url: &str) -> Instance {
        let mut server = Server::start_in(
            db.path(),
            &[
                "--log-format",
                "text",
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--database-url",
                url,
            ],
        );
        let line = server.wait_for_line("listening on http://");
        let (_, rest) = line.split_once("listening on http://").unwrap();
        let addr = rest
            .split(|c: char| c.is_whitespace() || c == '"')
            .next()
            .unwrap()
            .parse()
            .unwrap_or_else(|_| panic!("no address in {line:?}"));
        let (_, rest) = line
            .split_once(", instance ")
            .unwrap_or_else(|| panic!("no instance in {line:?}"));
        let id = rest.split(',').next().unwrap().to_owned();
        Instance { server, addr, id }
    }

    /// The status code of `GET path`.
    fn http_status(&self, path: &str) -> u16 {
        let mut stream = TcpStream::connect_timeout(&self.addr, Duration::from_secs(5)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"))
    }

    /// The process has not exited, `/healthz` answers and `/readyz` says its store answers.
    fn assert_alive_and_ready(&mut self) {
        assert!(
            self.server.child.try_wait().unwrap().is_none(),
            "instance {} exited; stderr: {:#?}",
            self.id,
            self.server.seen
        );
        assert_eq!(self.http_status("/healthz"), 200, "instance {}", self.id);
        wait_until(&format!("instance {} ready", self.id), || {
            (self.http_status("/readyz") == 200).then_some(())
        });
    }
}

/// SIGTERM to every instance at once, then each must exit cleanly; returns their stderr.
fn stop_all(instances: Vec<Instance>) -> Vec<String> {
    for instance in &instances {
        instance.server.send("-TERM");
    }
    let mut stderr = Vec::new();
    for mut instance in instances {
        let (status, lines) = instance.server.wait_for_exit();
        assert_eq!(status.code(), Some(0), "{}: {lines:#?}", instance.id);
        stderr.extend(lines);
    }
    stderr
}

/// What a scenario leaves behind, settled: with every instance stopped, the schedules are read
/// (their `next_run_at` ends the window of occurrences to account for) and disabled, and one
/// fresh instance runs until nothing is queued or running — rescuing the runs of killed
/// instances once their leases expire — then stops. Returns the schedules and its stderr.
fn settle(db: &TestDb, specs: &[Spec]) -> (Vec<ScheduleRow>, Vec<String>) {
    let schedules = load_schedules(db);
    disable_schedules(db, specs);
    let rescuer = Instance::start(db, &db.url);
    wait_until("no run queued or running", || {
        let active = count(
            db,
            "SELECT count(*) FROM runs WHERE state IN ('queued', 'running')",
        );
        (active == 0).then_some(())
    });
    let stderr = stop_all(vec![rescuer]);
    (schedules, stderr)
}

#[derive(Debug, Deserialize)]
struct ScheduleRow {
    id: i64,
    name: String,
    max_instances: i64,
    next_run_at: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct RunRow {
    id: i64,
    schedule_id: Option<i64>,
    trigger: String,
    scheduled_for: Option<i64>,
    state: String,
    lease_owner: Option<String>,
    occurrences_count: Option<i64>,
    occurrences_last: Option<i64>,
    attempts: Vec<AttemptRow>,
}

#[derive(Debug, Deserialize)]
struct AttemptRow {
    number: i32,
    instance: String,
    started_at: i64,
    finished_at: Option<i64>,
    outcome: Option<String>,
    error: Option<String>,
}

fn load_schedules(db: &TestDb) -> Vec<ScheduleRow> {
    let json = psql(
        &db.url,
        "SELECT coalesce(json_agg(row_to_json(s) ORDER BY s.id), '[]')
         FROM (SELECT id, name, max_instances, next_run_at FROM schedules) AS s",
    );
    serde_json::from_str(&json).unwrap()
}

/// Every run with its attempts, in one statement: one snapshot.
fn load_runs(db: &TestDb) -> Vec<RunRow> {
    let json = psql(
        &db.url,
        "SELECT coalesce(json_agg(row_to_json(v) ORDER BY v.id), '[]')
         FROM (SELECT r.id, r.schedule_id, r.trigger, r.scheduled_for, r.state, r.lease_owner,
                      r.occurrences_count, r.occurrences_last,
                      (SELECT coalesce(json_agg(row_to_json(a) ORDER BY a.number), '[]')
                       FROM (SELECT number, instance, started_at, finished_at, outcome, error
                             FROM run_attempts WHERE run_id = r.id) AS a) AS attempts
               FROM runs AS r) AS v",
    );
    serde_json::from_str(&json).unwrap()
}

/// What a history came to: printed for the CI log, and checked by each scenario.
#[derive(Debug, Default)]
struct Tally {
    occurrences: usize,
    /// Runs that executed (have attempts).
    executed: usize,
    attempts: usize,
    skipped: usize,
    missed_records: usize,
    missed_occurrences: usize,
    /// Runs with an attempt ended "worker lost" by a rescue.
    rescued: usize,
    lost_attempts: usize,
    /// Lost attempts of instances that were not killed (their heartbeats fell behind).
    lost_by_live_instances: usize,
    /// Attempts that started within [`CLOCK_SLACK_MS`] of the end of one that would have put
    /// the schedule over its `max_instances`.
    near_overlaps: usize,
}

/// Checks (a) to (d) of the module header on the settled history, with `schedules` as read
/// when the last instance that fired stopped. `killed` are the ids of the instances killed.
fn check_history(
    db: &TestDb,
    schedules: &[ScheduleRow],
    killed: &HashSet<String>,
    min_occurrences: usize,
) -> Tally {
    let runs = load_runs(db);
    let mut tally = Tally::default();

    // The fire key, as the issue asks for it: no two rows for one occurrence.
    let doubled = count(
        db,
        "SELECT count(*) FROM (SELECT 1 FROM runs WHERE scheduled_for IS NOT NULL
                               GROUP BY schedule_id, scheduled_for HAVING count(*) > 1) AS d",
    );
    assert_eq!(doubled, 0, "occurrences with two runs");

    // (b) and (c), run by run.
    for run in &runs {
        assert_eq!(run.trigger, "schedule", "only schedules made runs: {run:?}");
        assert_eq!(run.lease_owner, None, "a lease left held: {run:?}");
        match run.state.as_str() {
            "succeeded" => tally.executed += 1,
            "skipped" => tally.skipped += 1,
            "missed" => {
                tally.missed_records += 1;
                tally.missed_occurrences +=
                    usize::try_from(run.occurrences_count.unwrap()).unwrap();
            }
            other => panic!(
                "run {} ended {other}; expected succeeded, skipped or missed: {run:?}",
                run.id
            ),
        }
        let executed = run.state == "succeeded";
        assert_eq!(
            !run.attempts.is_empty(),
            executed,
            "attempts only for executed runs: {run:?}"
        );
        tally.attempts += run.attempts.len();
        for attempt in &run.attempts {
            assert!(
                attempt.finished_at.is_some() && attempt.outcome.is_some(),
                "an attempt left open: {run:?}"
            );
        }
        let lost: Vec<&AttemptRow> = run
            .attempts
            .iter()
            .filter(|a| {
                a.error
                    .as_deref()
                    .is_some_and(|e| e.starts_with("worker lost"))
            })
            .collect();
        let Some(last_lost) = lost.last() else {
            continue;
        };
        tally.rescued += 1;
        tally.lost_attempts += lost.len();
        for attempt in &lost {
            assert_eq!(attempt.outcome.as_deref(), Some("failed"), "{run:?}");
            if !killed.contains(&attempt.instance) {
                tally.lost_by_live_instances += 1;
            }
        }
        let last = run.attempts.last().unwrap();
        assert!(
            last.outcome.as_deref() == Some("succeeded") && last.number > last_lost.number,
            "a rescued run is retried and succeeds: {run:?}"
        );
    }

    let latest_next = schedules
        .iter()
        .filter_map(|s| s.next_run_at)
        .max()
        .unwrap();
    for schedule in schedules {
        let mine: Vec<&RunRow> = runs
            .iter()
            .filter(|r| r.schedule_id == Some(schedule.id))
            .collect();

        // (a) Each second from the first occurrence to the one before `next_run_at`: covered
        // by exactly one run or missed record, and nothing beyond.
        let next = schedule
            .next_run_at
            .unwrap_or_else(|| panic!("{} has no next run", schedule.name));
        assert!(
            next >= latest_next - 5_000,
            "{} stopped being fired at {next} while others went on to {latest_next}",
            schedule.name
        );
        let mut covered: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for run in &mine {
            let first = run.scheduled_for.unwrap();
            let last = if run.state == "missed" {
                let last = run.occurrences_last.unwrap();
                assert_eq!(
                    run.occurrences_count,
                    Some((last - first) / 1000 + 1),
                    "a missed record counts the seconds of its range: {run:?}"
                );
                last
            } else {
                first
            };
            for at in (first..=last).step_by(1000) {
                covered.entry(at).or_default().push(run.id);
            }
        }
        let (&first, _) = covered
            .first_key_value()
            .unwrap_or_else(|| panic!("{} never fired", schedule.name));
        assert_eq!(
            (next - first) % 1000,
            0,
            "{}: {first} to {next}",
            schedule.name
        );
        let twice: Vec<(&i64, &Vec<i64>)> =
            covered.iter().filter(|(_, ids)| ids.len() > 1).collect();
        assert!(
            twice.is_empty(),
            "{}: occurrences (epoch ms) accounted for more than once, with the run ids: {twice:?}",
            schedule.name
        );
        let lost: Vec<i64> = (first..next)
            .step_by(1000)
            .filter(|at| !covered.contains_key(at))
            .collect();
        assert!(
            lost.is_empty(),
            "{}: occurrences (epoch ms) neither run nor recorded missed: {lost:?}",
            schedule.name
        );
        let beyond: Vec<&i64> = covered.keys().filter(|&&at| at >= next).collect();
        assert!(
            beyond.is_empty(),
            "{}: runs at or after next_run_at {next}: {beyond:?}",
            schedule.name
        );
        assert!(
            covered.len() >= min_occurrences,
            "{}: only {} occurrences",
            schedule.name,
            covered.len()
        );
        tally.occurrences += covered.len();

        // (d) When each attempt started, fewer than max_instances others were running.
        let mut spans: Vec<(i64, i64, i64)> = mine
            .iter()
            .flat_map(|&run| {
                run.attempts
                    .iter()
                    .map(move |a| (a.started_at, a.finished_at.unwrap(), run.id))
            })
            .collect();
        spans.sort_unstable();
        let limit = usize::try_from(schedule.max_instances).unwrap();
        for (i, &(start, _, run)) in spans.iter().enumerate() {
            let running = spans[..i].iter().filter(|&&(_, end, _)| end > start);
            let overlapping: Vec<&(i64, i64, i64)> = running
                .clone()
                .filter(|&&(_, end, _)| end > start + CLOCK_SLACK_MS)
                .collect();
            assert!(
                overlapping.len() < limit,
                "{} (max_instances {limit}): run {run} started at {start} while these attempts \
                 (start, end, run) were running: {overlapping:?}",
                schedule.name
            );
            if running.count() >= limit {
                tally.near_overlaps += 1;
            }
        }
    }
    assert_eq!(
        tally.occurrences,
        tally.executed + tally.skipped + tally.missed_occurrences,
        "every occurrence is one run, one skipped record or part of one missed record"
    );
    tally
}

fn lines_with(stderr: &[String], needle: &str) -> usize {
    stderr.iter().filter(|line| line.contains(needle)).count()
}

/// A small xorshift generator: which instance dies, and when.
struct Dice(u64);

impl Dice {
    fn seeded() -> Dice {
        Dice(RandomState::new().hash_one(std::process::id()) | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

const KILL_SCHEDULES: u64 = 50;

/// How long instances are killed and replaced.
const CHAOS: Duration = Duration::from_secs(50);

#[test]
fn sigkilled_instances_neither_lose_nor_duplicate_occurrences() {
    let _turn = take_turn();
    let started = Instant::now();
    let db = TestDb::new(Backend::Postgres);
    // A short lease, so that the runs of a killed instance are rescued within seconds.
    std::fs::write(db.file("tidings.toml"), "[scheduler]\nlease = \"3s\"\n").unwrap();
    // Jobs of 10 to 500 ms, spread over the schedules; every other one keeps the default
    // max_instances (1), the others allow 3.
    let specs: Vec<Spec> = (0..KILL_SCHEDULES)
        .map(|i| Spec {
            name: format!("chaos-{i:02}"),
            sleep_ms: 10 + (i * 7919 + 13) % 491,
            max_instances: (i % 2 == 1).then_some(3),
        })
        .collect();
    create_schedules(&db, &specs, &[]);
    let defaults = load_schedules(&db);
    for spec in &specs {
        let schedule = defaults.iter().find(|s| s.name == spec.name).unwrap();
        let expected = spec.max_instances.map_or(1, i64::from);
        assert_eq!(schedule.max_instances, expected, "{}", spec.name);
    }

    let mut instances: Vec<Instance> = (0..3).map(|_| Instance::start(&db, &db.url)).collect();
    wait_until("a first second of runs succeeded", || {
        let succeeded = count(&db, "SELECT count(*) FROM runs WHERE state = 'succeeded'");
        (succeeded >= 50).then_some(())
    });

    // The chaos: after every 100 to 250 more runs have succeeded (2 to 5 s of the 50
    // schedules' work), one of the three instances dies with SIGKILL, with whatever it is
    // running, and a new one takes its place; two stay alive meanwhile.
    let mut dice = Dice::seeded();
    let mut killed = HashSet::new();
    let mut stderr = Vec::new();
    let chaos_started = Instant::now();
    while chaos_started.elapsed() < CHAOS {
        wait_for_more_successes(&db, 100 + i64::try_from(dice.below(151)).unwrap());
        let victim = usize::try_from(dice.below(instances.len() as u64)).unwrap();
        let mut instance = instances.swap_remove(victim);
        instance.server.send("-KILL");
        let (status, lines) = instance.server.wait_for_exit();
        assert_eq!(status.code(), None, "killed by a signal: {lines:#?}");
        stderr.extend(lines);
        killed.insert(instance.id);
        instances.push(Instance::start(&db, &db.url));
    }
    let kills = killed.len();
    stderr.extend(stop_all(instances));
    // A clean stop leaves nothing running: only the killed instances still hold runs.
    let holders = psql(
        &db.url,
        "SELECT DISTINCT lease_owner FROM runs WHERE state = 'running' ORDER BY 1",
    );
    for holder in holders.lines() {
        assert!(
            killed.contains(holder),
            "instance {holder} was stopped cleanly but still holds a running run"
        );
    }
    let (schedules, rescuer) = settle(&db, &specs);
    stderr.extend(rescuer);

    let tally = check_history(&db, &schedules, &killed, 40);
    eprintln!(
        "cluster/kill: {kills} instances killed over {CHAOS:?}; {} schedules, {} occurrences: \
         {} runs executed in {} attempts, {} skipped, {} missed in {} records; {} runs rescued \
         ({} attempts lost, {} of them by instances not killed; {} rescue log lines); {} near \
         overlaps within {CLOCK_SLACK_MS} ms; {} store errors and {} refused completions \
         logged; took {:?}",
        schedules.len(),
        tally.occurrences,
        tally.executed,
        tally.attempts,
        tally.skipped,
        tally.missed_occurrences,
        tally.missed_records,
        tally.rescued,
        tally.lost_attempts,
        tally.lost_by_live_instances,
        lines_with(&stderr, "rescued a run whose worker was lost"),
        tally.near_overlaps,
        lines_with(&stderr, "store operation failed"),
        lines_with(&stderr, "completion refused"),
        started.elapsed()
    );
    assert!(kills >= 5, "{kills} kills");
    assert!(
        tally.rescued > 0,
        "killing busy instances interrupted no run"
    );
}

/// A login role of the test's own for its servers, so that terminating its sessions touches
/// no other test (they all share one database, in schemas of their own, and every tidings
/// connection is named `tidings`). Dropped, with its sessions, at the end.
struct ServeRole {
    admin_url: String,
    name: String,
    /// The servers' database URL: the role on the test's schema.
    url: String,
}

impl ServeRole {
    fn create(db: &TestDb) -> ServeRole {
        let (server, schema) = db.postgres.clone().unwrap();
        let name = format!("{schema}_serve");
        let password = "cluster-test";
        // A superuser like the tests' own user, so that it may use the schema they created.
        psql(
            &server,
            &format!(
                "CREATE ROLE \"{name}\" LOGIN SUPERUSER PASSWORD {}",
                literal(password)
            ),
        );
        let (scheme, rest) = server.split_once("://").unwrap();
        let (authority, path) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
        let host = authority
            .rsplit_once('@')
            .map_or(authority, |(_, host)| host);
        let separator = if path.contains('?') { '&' } else { '?' };
        let url = format!(
            "{scheme}://{name}:{password}@{host}{path}{separator}options=-c%20search_path%3D{schema}"
        );
        ServeRole {
            admin_url: server,
            name,
            url,
        }
    }

    /// Terminates every session of the role; returns how many.
    fn terminate_sessions(&self) -> i64 {
        let out = psql(
            &self.admin_url,
            // The role's sessions are chosen first, in a CTE of their own: in one WHERE clause the
            // planner may call pg_terminate_backend before the filter on the role.
            &format!(
                "WITH mine AS MATERIALIZED (
                     SELECT pid FROM pg_stat_activity
                     WHERE usename = {} AND pid <> pg_backend_pid())
                 SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM mine",
                literal(&self.name)
            ),
        );
        out.parse().unwrap()
    }
}

impl Drop for ServeRole {
    fn drop(&mut self) {
        let sql = format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = {}; \
             DROP ROLE IF EXISTS \"{}\"",
            literal(&self.name),
            self.name
        );
        let dropped = Command::new("psql")
            .args(["-X", "-q", "-d", &self.admin_url, "-c", &sql])
            .output();
        match dropped {
            Ok(output) if output.status.success() => {}
            Ok(output) => eprintln!(
                "could not drop role {}: {}",
                self.name,
                text(&output.stderr)
            ),
            Err(e) => eprintln!("could not drop role {}: {e}", self.name),
        }
    }
}

/// Whether each of `instances` finished an attempt, successfully, of a run newer than `after`.
fn each_finished_a_run_after(db: &TestDb, instances: &[Instance], after: i64) -> bool {
    let ids: Vec<String> = instances.iter().map(|i| literal(&i.id)).collect();
    let finished = count(
        db,
        &format!(
            "SELECT count(DISTINCT a.instance) FROM run_attempts AS a
             WHERE a.run_id > {after} AND a.outcome = 'succeeded' AND a.instance IN ({})",
            ids.join(", ")
        ),
    );
    finished == i64::try_from(instances.len()).unwrap()
}

/// How many more runs succeed between two terminations (about 5 s of the schedules' work).
const BETWEEN_TERMINATIONS: i64 = 25;

/// Waits (polling the runs, bounded) until `more` runs have succeeded beyond those already
/// counted: the instances' own progress paces the test, not a clock.
fn wait_for_more_successes(db: &TestDb, more: i64) {
    let sql = "SELECT count(*) FROM runs WHERE state = 'succeeded'";
    let target = count(db, sql) + more;
    wait_until(&format!("{more} more runs succeeded"), || {
        (count(db, sql) >= target).then_some(())
    });
}

#[test]
fn instances_reconnect_after_postgres_terminates_their_connections() {
    let _turn = take_turn();
    let started = Instant::now();
    let db = TestDb::new(Backend::Postgres);
    // Two workers per instance for six schedules whose jobs take 3.3 s of each second: both
    // instances must execute runs all along, so both must have reconnected for work to go on.
    std::fs::write(
        db.file("tidings.toml"),
        "[scheduler]\nlease = \"3s\"\nconcurrency = 2\n",
    )
    .unwrap();
    let specs: Vec<Spec> = (0..6_u64)
        .map(|i| Spec {
            name: format!("steady-{i}"),
            sleep_ms: 300 + 100 * i,
            max_instances: None,
        })
        .collect();
    // Each due occurrence runs (or is skipped at max_instances) rather than being coalesced into
    // a missed record: a late scheduler shows as skipped runs, and missed means lost.
    create_schedules(&db, &specs, &["--no-coalesce"]);
    let role = ServeRole::create(&db);
    let mut instances: Vec<Instance> = (0..2).map(|_| Instance::start(&db, &role.url)).collect();
    wait_until("both instances finished a run", || {
        each_finished_a_run_after(&db, &instances, 0).then_some(())
    });

    let mut terminated = Vec::new();
    for round in 0..2 {
        if round > 0 {
            wait_for_more_successes(&db, BETWEEN_TERMINATIONS);
        }
        let sessions = role.terminate_sessions();
        let newest = count(&db, "SELECT coalesce(max(id), 0) FROM runs");
        assert!(
            sessions >= 2,
            "{sessions} sessions of two instances terminated"
        );
        terminated.push(sessions);
        // Runs fired after the termination, claimed and completed by each instance: both
        // reconnected by themselves.
        wait_until(
            "both instances finish runs fired after the termination",
            || each_finished_a_run_after(&db, &instances, newest).then_some(()),
        );
        for instance in &mut instances {
            instance.assert_alive_and_ready();
        }
    }
    let mut stderr = stop_all(instances);
    let (schedules, rescuer) = settle(&db, &specs);
    stderr.extend(rescuer);
    drop(role);

    let tally = check_history(&db, &schedules, &HashSet::new(), 5);
    eprintln!(
        "cluster/connections: sessions terminated {terminated:?}; {} schedules, {} occurrences: \
         {} runs executed in {} attempts, {} skipped, {} missed in {} records; {} runs rescued; \
         {} near overlaps within {CLOCK_SLACK_MS} ms; {} store errors and {} refused \
         completions logged; took {:?}",
        schedules.len(),
        tally.occurrences,
        tally.executed,
        tally.attempts,
        tally.skipped,
        tally.missed_occurrences,
        tally.missed_records,
        tally.rescued,
        tally.near_overlaps,
        lines_with(&stderr, "store operation failed"),
        lines_with(&stderr, "completion refused"),
        started.elapsed()
    );
    assert_eq!(
        tally.missed_occurrences, 0,
        "an outage of moments, well within the misfire grace, lost occurrences"
    );
}

/// `tidings instances list` shows every running instance on the database, with its host and pid;
/// one stopped cleanly leaves the list at once; one killed stays until the others prune it.
#[test]
fn instances_list_shows_the_live_instances() {
    let _turn = take_turn();
    let db = TestDb::new(Backend::Postgres);
    let first = Instance::start(&db, &db.url);
    let second = Instance::start(&db, &db.url);
    let listed = wait_until("both instances registered", || {
        let listed = db.json(&["instances", "list"]);
        (listed.as_array().unwrap().len() == 2).then_some(listed)
    });
    let ids: HashSet<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|instance| instance["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, HashSet::from([first.id.as_str(), second.id.as_str()]));
    for instance in listed.as_array().unwrap() {
        assert_eq!(instance["pid"].as_u64().unwrap() as u32, {
            let id = instance["id"].as_str().unwrap();
            if id == first.id {
                first.server.child.id()
            } else {
                second.server.child.id()
            }
        });
        assert!(instance["last_seen_at"].is_string(), "{instance}");
    }
    let table = db.ok(&["instances", "list"]);
    assert!(table.starts_with("ID "), "{table}");
    assert!(
        table.contains(&first.id) && table.contains(&second.id),
        "{table}"
    );

    let second_id = second.id.clone();
    stop_all(vec![second]);
    let listed = db.json(&["instances", "list"]);
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|instance| instance["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [first.id.as_str()], "{second_id} removed itself");
    stop_all(vec![first]);
    assert_eq!(db.json(&["instances", "list"]), serde_json::json!([]));
}
