//! `App`: the running service. [`App::build`] opens the store (exclusively), applies its
//! migrations, reconciles the declared schedules, makes the first API key if there is none, and
//! binds the listener (port 0 picks a free one, for tests); [`App::run_until_stopped`] starts the
//! scheduler engine and serves the API at once — startup never waits for a job — until SIGINT,
//! SIGTERM or its shutdown token. Then the engine stops claiming, running jobs get
//! `server.shutdown_grace` to finish (unfinished runs go back to the queue), in-flight requests
//! get the same grace, and it returns.
//!
//! If the scheduler cannot start (the declared schedules cannot be applied), the API still
//! serves, and `/readyz` and `/api/status` say why.

use std::future::IntoFuture;
use std::io;
use std::net::SocketAddr;
use std::pin::pin;

use tidings_api::{ApiConfig, ApiState, SchedulerState};
use tidings_engine::Engine;
use tidings_store::{ApiKeyCreateParams, ApiKeyRole, ScheduleListParams, StoreError};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::config::{Config, duration};
use crate::shutdown::StopSignals;
use crate::store::{self, Access, OpenError};
use crate::{reconcile, scheduler};

/// A bound, not yet serving, tidings service.
pub struct App {
    config: Config,
    listener: TcpListener,
    local_addr: SocketAddr,
    shutdown: CancellationToken,
    engine: Engine,
    api: ApiState,
    schedules: ScheduleCount,
    /// Why the scheduler will not start, if it will not.
    scheduler_failure: Option<String>,
    first_key: Option<String>,
}

/// Why the service could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("cannot listen on {addr}: {}; set server.listen or --listen", bind_reason(.cause))]
    Bind { addr: SocketAddr, cause: io::Error },
    #[error(transparent)]
    Store(#[from] OpenError),
    #[error("cannot migrate the database: {0}")]
    Migrate(StoreError),
    #[error("cannot read the schedules: {0}")]
    Schedules(StoreError),
    #[error("cannot create the first API key: {0}")]
    FirstKey(StoreError),
    #[error("cannot watch for SIGINT/SIGTERM: {0}")]
    Signals(io::Error),
    #[error("the HTTP server failed: {0}")]
    Serve(io::Error),
}

fn bind_reason(cause: &io::Error) -> String {
    match cause.kind() {
        io::ErrorKind::AddrInUse => "address already in use".to_owned(),
        io::ErrorKind::AddrNotAvailable => "address not available on this machine".to_owned(),
        io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => cause.to_string(),
    }
}

/// Connections the service's pool needs beyond one per worker: the firing timer, heartbeats,
/// lease rescue and the API.
const EXTRA_CONNECTIONS: u32 = 4;

/// Schedules in the store when the service started, for the startup line.
#[derive(Debug, Clone, Copy, Default)]
struct ScheduleCount {
    total: usize,
    enabled: usize,
    /// Schedules with a `callback_url`.
    with_callback: usize,
}

impl App {
    /// Opens the store at `database.url` (a SQLite file exclusively: a second server on it is
    /// refused with [`OpenError::Locked`]), applies its migrations, reconciles the
    /// `[[schedules]]` of the configuration, and binds `server.listen`.
    pub async fn build(config: Config) -> Result<App, AppError> {
        let connections = config.scheduler.concurrency + EXTRA_CONNECTIONS;
        let store = store::open(&config.database.url, Access::Serve { connections }).await?;
        for migration in store.migrate().await.map_err(AppError::Migrate)? {
            info!(
                "applied migration {:04} {}",
                migration.version, migration.description
            );
        }
        let engine = scheduler::engine(store, &config, scheduler::instance_id());
        let api = ApiState::new(
            engine.clone(),
            api_config(&config),
            crate::draft::defaults(&config.scheduler),
            tidings_api::install_metrics(),
        );
        api.set_stats_refresh_interval(config.stats.refresh_every);
        let reconciled = match reconcile::declared_schedules(&engine, &config).await {
            Ok(_) => reconcile::source_schedules(&engine, &config)
                .await
                .map(drop),
            Err(cause) => Err(cause),
        };
        let scheduler_failure = match reconciled {
            Ok(()) => None,
            Err(cause) => {
                let reason = format!("cannot apply the declared schedules: {cause}");
                error!("the scheduler will not start: {reason}; the API serves without it");
                Some(reason)
            }
        };
        let schedules = count_schedules(&engine)
            .await
            .map_err(AppError::Schedules)?;
        if schedules.with_callback > 0 {
            scheduler::warn_if_webhooks_unsigned(&config);
        }
        let first_key = match &config.server.api_key {
            Some(_) => None,
            None => first_key(&engine).await.map_err(AppError::FirstKey)?,
        };

        let addr = config.server.listen;
        let bind_error = |cause| AppError::Bind { addr, cause };
        let listener = TcpListener::bind(addr).await.map_err(bind_error)?;
        let local_addr = listener.local_addr().map_err(bind_error)?;
        Ok(App {
            config,
            listener,
            local_addr,
            shutdown: CancellationToken::new(),
            engine,
            api,
            schedules,
            scheduler_failure,
            first_key,
        })
    }

    /// The admin key made because the store had none, shown once at start.
    pub fn first_key(&self) -> Option<&str> {
        self.first_key.as_deref()
    }

    /// What the API handlers share: the scheduler state it reports, among others.
    pub fn api(&self) -> &ApiState {
        &self.api
    }

    /// The address actually bound: with port 0, the port the system picked.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The scheduler engine, started by [`App::run_until_stopped`].
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Cancelled when the service starts shutting down; cancel it to stop the service.
    /// Everything that must stop with the service (the scheduler, workers) shares it.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Starts the engine and serves until SIGINT or SIGTERM arrives or the shutdown token is
    /// cancelled; then waits for the engine (running jobs get `server.shutdown_grace`, and what
    /// is unfinished returns to the queue) and up to the same grace for in-flight requests.
    pub async fn run_until_stopped(self) -> Result<(), AppError> {
        let App {
            config,
            listener,
            local_addr,
            shutdown,
            engine,
            api,
            schedules,
            scheduler_failure,
            first_key,
        } = self;
        // Installed before announcing the address, so a signal sent as soon as someone reads the
        // "listening" line is handled.
        let mut signals = StopSignals::install().map_err(AppError::Signals)?;
        let on_signal = shutdown.clone();
        let signal_watch = tokio::spawn(async move {
            tokio::select! {
                name = signals.recv() => {
                    info!("received {name}, shutting down");
                    on_signal.cancel();
                }
                () = on_signal.cancelled() => {}
            }
        });

        let engine_stopped = match &scheduler_failure {
            None => {
                let handle = engine.start(shutdown.clone());
                api.set_scheduler(SchedulerState::Running {
                    since: engine.clock().now(),
                });
                Some(handle)
            }
            Some(reason) => {
                api.set_scheduler(SchedulerState::Failed {
                    reason: reason.clone(),
                });
                None
            }
        };
        let plural = if schedules.total == 1 { "" } else { "s" };
        info!(
            "listening on http://{local_addr} (database {}, instance {}, {} schedule{plural}, {} enabled); API docs at http://{local_addr}/api/docs",
            config.database.url,
            engine.config().instance,
            schedules.total,
            schedules.enabled
        );
        if let Some(key) = &first_key {
            announce_first_key(key);
        }
        let server = axum::serve(listener, tidings_api::router(api.clone()))
            .with_graceful_shutdown(shutdown.clone().cancelled_owned())
            .into_future();
        let mut server = pin!(server);
        let grace = config.server.shutdown_grace;
        let ended_early = tokio::select! {
            served = &mut server => Some(served),
            () = shutdown.cancelled() => None,
        };
        // However serving ended, the engine stops with it.
        shutdown.cancel();
        if engine_stopped.is_some() {
            api.set_scheduler(SchedulerState::Stopping);
        }
        let drain = async {
            match ended_early {
                Some(served) => served,
                None => match tokio::time::timeout(grace, &mut server).await {
                    Ok(served) => served,
                    Err(_) => {
                        warn!(
                            "requests still open after {}; closing them",
                            duration::format(grace)
                        );
                        Ok(())
                    }
                },
            }
        };
        let engine_done = async {
            if let Some(handle) = engine_stopped {
                handle.stopped().await;
            }
        };
        let (served, ()) = tokio::join!(drain, engine_done);
        signal_watch.abort();
        served.map_err(AppError::Serve)?;
        info!("stopped");
        Ok(())
    }
}

/// The API's settings from `[server]`, `[cache]`, `[sources.NAME]` and `TIDINGS_API_KEY`.
fn api_config(config: &Config) -> ApiConfig {
    let sources = config
        .sources
        .iter()
        .map(|(name, source)| tidings_api::SourceInfo {
            name: name.clone(),
            kind: source.kind().to_owned(),
            location: source.location(),
            stale_after: config.cache.stale_after,
        })
        .collect();
    ApiConfig {
        bootstrap_key: config
            .server
            .api_key
            .as_ref()
            .map(|key| key.expose().to_owned()),
        body_limit: config.server.body_limit,
        request_timeout: config.server.request_timeout,
        cors_origins: config.server.cors_origins.clone(),
        public_metrics: config.server.public_metrics,
        database: config.database.url.to_string(),
        sources,
        default_source: config.default_source().map(str::to_owned),
    }
}

/// The name of the key made at first start.
const FIRST_KEY_NAME: &str = "admin";

/// An admin key when the store has no active key (first start), so that the API can be used at
/// once; `None` when there are keys.
async fn first_key(engine: &Engine) -> Result<Option<String>, StoreError> {
    let store = engine.store();
    if store.api_key_count_active().await? > 0 {
        return Ok(None);
    }
    let new = tidings_api::keys::generate();
    let created = store
        .api_key_create(ApiKeyCreateParams {
            name: FIRST_KEY_NAME.to_owned(),
            role: ApiKeyRole::Admin,
            prefix: new.prefix.clone(),
            hash: new.hash.clone(),
            now: engine.clock().now(),
        })
        .await;
    match created {
        Ok(_) => {}
        // Several instances starting together on a new PostgreSQL database: another one made
        // the first key (and printed it) a moment ago.
        Err(StoreError::Conflict(_)) if store.api_key_count_active().await? > 0 => {
            info!("another instance created the first API key; it printed it");
            return Ok(None);
        }
        Err(error) => return Err(error),
    }
    info!(
        "created the first API key `{FIRST_KEY_NAME}` (role admin, prefix {}); it is printed once on stdout",
        new.prefix
    );
    Ok(Some(new.token))
}

/// Prints the first key where the person starting the service sees it — on stdout, apart from
/// the log on stderr — and nowhere else.
fn announce_first_key(key: &str) {
    println!(
        "\n  The first API key (role admin). It is shown this once; keep it:\n\n      {key}\n\n  Send it as `X-API-Key: KEY` or `Authorization: Bearer KEY`. More keys:\n  tidings keys create --name NAME --role read|write|admin\n"
    );
}

/// How many schedules the store holds, and how many are enabled.
async fn count_schedules(engine: &Engine) -> Result<ScheduleCount, StoreError> {
    let mut count = ScheduleCount::default();
    let mut cursor = None;
    loop {
        let page = engine
            .store()
            .schedule_list(ScheduleListParams {
                limit: 1000,
                cursor,
                ..ScheduleListParams::default()
            })
            .await?;
        count.total += page.items.len();
        count.enabled += page.items.iter().filter(|s| s.enabled).count();
        count.with_callback += page
            .items
            .iter()
            .filter(|s| s.callback_url.is_some())
            .count();
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(count),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    use super::*;

    /// Sends `request_line` with no body and returns the whole response.
    fn send(addr: SocketAddr, request_line: &str) -> String {
        let mut stream = TcpStream::connect(addr).unwrap();
        write!(stream, "{request_line} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    }

    /// The defaults, on a free port and a database in `dir`.
    fn config_in(dir: &tempfile::TempDir) -> Config {
        let mut config = Config::default();
        config.server.listen = "127.0.0.1:0".parse().unwrap();
        config.database.url =
            crate::config::DatabaseUrl::parse(&format!("sqlite://{}/t.db", dir.path().display()))
                .unwrap();
        config
    }

    #[tokio::test]
    async fn app_serves_on_a_free_port_until_its_shutdown_token_is_cancelled() {
        let dir = tempfile::tempdir().unwrap();
        let app = App::build(config_in(&dir)).await.unwrap();
        let addr = app.local_addr();
        assert_ne!(addr.port(), 0);
        let stop = app.shutdown_token();
        let running = tokio::spawn(app.run_until_stopped());

        let (healthz, wrong_method) = tokio::task::spawn_blocking(move || {
            (send(addr, "GET /healthz"), send(addr, "DELETE /healthz"))
        })
        .await
        .unwrap();
        assert!(healthz.starts_with("HTTP/1.1 200 OK\r\n"), "{healthz}");
        assert!(healthz.ends_with(r#"{"status":"ok"}"#), "{healthz}");
        assert!(
            wrong_method.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"),
            "{wrong_method}"
        );
        assert!(
            wrong_method.contains("content-type: application/problem+json"),
            "{wrong_method}"
        );
        assert!(wrong_method.ends_with(
            r#"{"type":"https://tidings.dev/problems/method-not-allowed","title":"Method Not Allowed","status":405,"detail":"/healthz does not accept DELETE"}"#
        ), "{wrong_method}");

        stop.cancel();
        running.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn the_engine_runs_declared_schedules_and_stops_with_the_app() {
        let dir = tempfile::tempdir().unwrap();
        let toml = "[[schedules]]\nname = \"tick\"\ninterval = \"1s\"\nkind = \"noop\"\n";
        std::fs::write(dir.path().join("tidings.toml"), toml).unwrap();
        let file = crate::config::ConfigFile::Required(dir.path().join("tidings.toml"));
        let mut config = crate::config::load(&crate::config::ConfigSources {
            file,
            env: Vec::new(),
            flags: Default::default(),
        })
        .unwrap();
        let defaults = config_in(&dir);
        config.server = defaults.server;
        config.database = defaults.database;

        let app = App::build(config).await.unwrap();
        let mut events = app.engine().subscribe();
        let stop = app.shutdown_token();
        let running = tokio::spawn(app.run_until_stopped());
        let succeeded = tokio::time::timeout(std::time::Duration::from_secs(20), async {
            loop {
                if let Ok(tidings_engine::EngineEvent::Finished { run }) = events.recv().await
                    && run.state == tidings_core::RunState::Succeeded
                    && run.kind == "noop"
                {
                    return run;
                }
            }
        })
        .await
        .expect("a declared schedule ran within 20 s");
        assert_eq!(succeeded.kind, "noop");
        assert!(succeeded.scheduled_for.is_some());
        stop.cancel();
        running.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn the_first_start_makes_one_admin_key_that_the_api_accepts() {
        let dir = tempfile::tempdir().unwrap();
        let app = App::build(config_in(&dir)).await.unwrap();
        let key = app.first_key().expect("a key on first start").to_owned();
        let addr = app.local_addr();
        let stop = app.shutdown_token();
        let running = tokio::spawn(app.run_until_stopped());
        let (with_key, without) = tokio::task::spawn_blocking(move || {
            let with_key = {
                let mut stream = TcpStream::connect(addr).unwrap();
                write!(stream, "GET /api/status HTTP/1.1\r\nHost: {addr}\r\nX-API-Key: {key}\r\nConnection: close\r\n\r\n").unwrap();
                let mut response = String::new();
                stream.read_to_string(&mut response).unwrap();
                response
            };
            (with_key, send(addr, "GET /api/status"))
        })
        .await
        .unwrap();
        assert!(with_key.starts_with("HTTP/1.1 200 OK\r\n"), "{with_key}");
        assert!(
            with_key.contains(r#""scheduler":{"state":"running""#),
            "{with_key}"
        );
        assert!(
            without.starts_with("HTTP/1.1 401 Unauthorized\r\n"),
            "{without}"
        );
        stop.cancel();
        running.await.unwrap().unwrap();

        // The key exists now: a restart makes none.
        let config = config_in(&dir);
        let store = store::open(&config.database.url, Access::Tool)
            .await
            .unwrap();
        let keys = store.api_key_list().await.unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(
            (keys[0].name.as_str(), keys[0].role),
            ("admin", ApiKeyRole::Admin)
        );
        let engine = scheduler::engine(store, &config, "test".to_owned());
        assert_eq!(first_key(&engine).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_taken_port_names_the_address_and_how_to_change_it() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut config = config_in(&dir);
        config.server.listen = taken.local_addr().unwrap();
        let Err(err) = App::build(config).await else {
            panic!("bound a port that was taken");
        };
        assert_eq!(
            err.to_string(),
            format!(
                "cannot listen on {}: address already in use; set server.listen or --listen",
                taken.local_addr().unwrap()
            )
        );
    }
}
