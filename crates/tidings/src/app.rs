//! `App`: the running service. [`App::build`] binds the listener (port 0 picks a free one, for
//! tests); [`App::run_until_stopped`] serves until SIGINT, SIGTERM or its shutdown token, then
//! lets in-flight requests finish within `server.shutdown_grace` and returns.

use std::future::IntoFuture;
use std::io;
use std::net::SocketAddr;
use std::pin::pin;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::config::{Config, duration};
use crate::http;
use crate::shutdown::StopSignals;

/// A bound, not yet serving, tidings service.
pub struct App {
    config: Config,
    listener: TcpListener,
    local_addr: SocketAddr,
    shutdown: CancellationToken,
}

/// Why the service could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("cannot listen on {addr}: {}; set server.listen or --listen", bind_reason(.cause))]
    Bind { addr: SocketAddr, cause: io::Error },
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

impl App {
    /// Binds `server.listen`.
    pub async fn build(config: Config) -> Result<App, AppError> {
        let addr = config.server.listen;
        let bind_error = |cause| AppError::Bind { addr, cause };
        let listener = TcpListener::bind(addr).await.map_err(bind_error)?;
        let local_addr = listener.local_addr().map_err(bind_error)?;
        Ok(App {
            config,
            listener,
            local_addr,
            shutdown: CancellationToken::new(),
        })
    }

    /// The address actually bound: with port 0, the port the system picked.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Cancelled when the service starts shutting down; cancel it to stop the service.
    /// Everything that must stop with the service (the scheduler, workers) shares it.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Serves until SIGINT or SIGTERM arrives or the shutdown token is cancelled, then waits up
    /// to `server.shutdown_grace` for in-flight requests.
    pub async fn run_until_stopped(self) -> Result<(), AppError> {
        let App {
            config,
            listener,
            local_addr,
            shutdown,
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

        info!("listening on http://{local_addr}");
        let server = axum::serve(listener, http::router())
            .with_graceful_shutdown(shutdown.clone().cancelled_owned())
            .into_future();
        let mut server = pin!(server);
        let grace = config.server.shutdown_grace;
        let served = tokio::select! {
            served = &mut server => served,
            () = shutdown.cancelled() => match tokio::time::timeout(grace, &mut server).await {
                Ok(served) => served,
                Err(_) => {
                    warn!("requests still open after {}; closing them", duration::format(grace));
                    Ok(())
                }
            },
        };
        signal_watch.abort();
        served.map_err(AppError::Serve)?;
        info!("stopped");
        Ok(())
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

    #[tokio::test]
    async fn app_serves_on_a_free_port_until_its_shutdown_token_is_cancelled() {
        let mut config = Config::default();
        config.server.listen = "127.0.0.1:0".parse().unwrap();
        let app = App::build(config).await.unwrap();
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
    async fn a_taken_port_names_the_address_and_how_to_change_it() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut config = Config::default();
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
