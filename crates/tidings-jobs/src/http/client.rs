//! The one `reqwest::Client` an `http` job instance shares: rustls on the ring provider (the
//! provider the rest of the workspace uses, so no OpenSSL and no aws-lc), the operating
//! system's trust store, and redirects followed only within the same origin.
//!
//! Trust: certificates are verified against the system's CA store through
//! rustls-platform-verifier, so a private CA installed on the machine is honoured. A machine
//! with no CA store at all (a `scratch` container) falls back to the Mozilla roots bundled by
//! `webpki-roots`, with a warning, rather than making every `https` call fail.
//!
//! Redirects: reqwest would follow a redirect to another host and send it the job's headers
//! (only `Authorization` and cookies are stripped), leaking an API key in a custom header.
//! So a redirect is followed only when it stays on the original scheme, host and port; any
//! other one is returned as it is and judged against `expected_status`.

use std::sync::Arc;

use reqwest::redirect::{Attempt, Policy};
use reqwest::{Client, ClientBuilder};

/// Redirects followed within one origin before the last one is returned as the answer.
const MAX_REDIRECTS: usize = 5;

/// `tidings/<version>`.
pub const USER_AGENT: &str = concat!("tidings/", env!("CARGO_PKG_VERSION"));

pub(crate) fn build() -> Result<Client, reqwest::Error> {
    // reqwest takes the process-wide default provider; ring is the workspace's. Installing
    // fails harmlessly when a provider is already installed (by us or by the binary).
    let _already_installed = rustls::crypto::ring::default_provider().install_default();
    match builder().build() {
        Ok(client) => Ok(client),
        Err(system_store) => match bundled_roots() {
            Ok(tls) => {
                tracing::warn!(
                    error = %system_store,
                    "cannot use the system's CA certificates; `http` jobs verify servers against \
                     the bundled Mozilla roots instead"
                );
                builder().tls_backend_preconfigured(tls).build()
            }
            Err(_) => Err(system_store),
        },
    }
}

fn builder() -> ClientBuilder {
    Client::builder()
        .user_agent(USER_AGENT)
        .redirect(Policy::custom(same_origin))
}

fn same_origin(attempt: Attempt<'_>) -> reqwest::redirect::Action {
    let previous = attempt.previous();
    let stays = previous
        .first()
        .is_some_and(|first| first.origin() == attempt.url().origin());
    if stays && previous.len() <= MAX_REDIRECTS {
        attempt.follow()
    } else {
        attempt.stop()
    }
}

/// A rustls configuration trusting the Mozilla roots compiled into `webpki-roots`.
pub(crate) fn bundled_roots() -> Result<rustls::ClientConfig, rustls::Error> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    Ok(rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_roots_make_a_client() {
        let tls = bundled_roots().unwrap();
        builder().tls_backend_preconfigured(tls).build().unwrap();
    }
}
