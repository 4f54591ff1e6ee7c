//! The HTTP client: rustls on the ring provider (the workspace's), the system's trust store, and
//! the Mozilla roots of `webpki-roots` when there is none (a `scratch` container).

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Client, ClientBuilder};

const USER_AGENT: &str = concat!("tidings/", env!("CARGO_PKG_VERSION"));

pub(crate) fn build(timeout: Duration) -> Result<Client, reqwest::Error> {
    // Installing fails harmlessly when a provider is already installed (by us or the binary).
    let _already_installed = rustls::crypto::ring::default_provider().install_default();
    match builder(timeout).build() {
        Ok(client) => Ok(client),
        Err(system_store) => match bundled_roots() {
            Ok(tls) => {
                tracing::warn!(
                    error = %system_store,
                    "cannot use the system's CA certificates; Airtable's certificate is verified \
                     against the bundled Mozilla roots instead"
                );
                builder(timeout).tls_backend_preconfigured(tls).build()
            }
            Err(_) => Err(system_store),
        },
    }
}

fn builder(timeout: Duration) -> ClientBuilder {
    Client::builder().user_agent(USER_AGENT).timeout(timeout)
}

fn bundled_roots() -> Result<rustls::ClientConfig, rustls::Error> {
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
