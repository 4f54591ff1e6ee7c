//! `tidings keys create|list|revoke`: the API keys in the store, managed directly (no server
//! needed). A new key is printed once and never again: only its hash is stored. Lists show a
//! key's prefix, never the key.

use std::io::Write;

use anyhow::anyhow;
use clap::{Args, Subcommand};
use serde::Serialize;
use tidings_store::{ApiKey, ApiKeyCreateParams, ApiKeyRole};

use super::session::{Session, store_failure};
use super::text::{self, Table, write, write_json};
use super::{DatabaseArgs, Failure, GlobalArgs};

#[derive(Debug, Args)]
pub struct KeysArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// Print JSON on stdout instead of text
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: KeysCommand,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Create an API key and print it (the only time it is shown)
    Create {
        /// A name for the key, unique among keys not revoked, e.g. `grafana`
        #[arg(long, value_name = "NAME")]
        name: String,
        /// What the key may do: read, write (also change schedules) or admin (also manage keys)
        #[arg(long, value_name = "ROLE", value_parser = role)]
        role: ApiKeyRole,
    },
    /// List API keys, oldest first, revoked ones included (never the keys themselves)
    List,
    /// Revoke an API key: it is refused from then on
    Revoke {
        /// The key's name or prefix
        #[arg(value_name = "NAME|PREFIX")]
        key: String,
    },
}

/// `--role`, naming the valid roles when it is not one.
fn role(text: &str) -> Result<ApiKeyRole, String> {
    ApiKeyRole::parse(text).ok_or_else(|| {
        let roles: Vec<&str> = ApiKeyRole::ALL.iter().map(|r| r.as_str()).collect();
        format!(
            "unknown role `{text}`: expected one of {}",
            roles.join(", ")
        )
    })
}

/// The longest name a key may have.
const MAX_NAME: usize = 100;

fn checked_name(name: &str) -> Result<String, Failure> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Failure::usage(anyhow!("--name: it is empty")));
    }
    if name.chars().count() > MAX_NAME {
        return Err(Failure::usage(anyhow!(
            "--name: it is longer than {MAX_NAME} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(Failure::usage(anyhow!(
            "--name: it contains control characters"
        )));
    }
    Ok(name.to_owned())
}

/// A new key as `--json` prints it: the stored key and, this once, the token.
#[derive(Debug, Serialize)]
struct CreatedKey<'a> {
    #[serde(flatten)]
    key: &'a ApiKey,
    token: &'a str,
}

impl KeysArgs {
    pub async fn run(self, global: &GlobalArgs, out: &mut dyn Write) -> Result<(), Failure> {
        let session = Session::open(global, &self.database).await?;
        match self.command {
            KeysCommand::Create { name, role } => {
                create(&session, &name, role, self.json, out).await
            }
            KeysCommand::List => list(&session, self.json, out).await,
            KeysCommand::Revoke { key } => revoke(&session, &key, self.json, out).await,
        }
    }
}

async fn create(
    session: &Session,
    name: &str,
    role: ApiKeyRole,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let name = checked_name(name)?;
    let material = tidings_api::keys::generate();
    let key = session
        .store()
        .api_key_create(ApiKeyCreateParams {
            name,
            role,
            prefix: material.prefix.clone(),
            hash: material.hash.clone(),
            now: session.now(),
        })
        .await
        .map_err(store_failure)?;
    if json {
        return write_json(
            out,
            &CreatedKey {
                key: &key,
                token: &material.token,
            },
        );
    }
    write(
        out,
        &format!(
            "created API key `{}` (id {}): role {}, prefix {}\n\
             {}\n\
             this key is shown only now and cannot be shown again: store it somewhere safe\n",
            key.name, key.id, key.role, key.prefix, material.token
        ),
    )
}

async fn list(session: &Session, json: bool, out: &mut dyn Write) -> Result<(), Failure> {
    let keys = session
        .store()
        .api_key_list()
        .await
        .map_err(store_failure)?;
    if json {
        return write_json(out, &keys);
    }
    if keys.is_empty() {
        return write(out, "no API keys\n");
    }
    let zone = session.zone();
    let mut table = Table::new(&["NAME", "ROLE", "PREFIX", "CREATED", "LAST USED", "REVOKED"]);
    for key in &keys {
        table.row(vec![
            key.name.clone(),
            key.role.to_string(),
            key.prefix.clone(),
            text::instant(key.created_at, zone),
            text::maybe_instant(key.last_used_at, zone),
            text::maybe_instant(key.revoked_at, zone),
        ]);
    }
    write(out, &table.render())
}

async fn revoke(
    session: &Session,
    name_or_prefix: &str,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let key = session
        .store()
        .api_key_revoke(name_or_prefix.trim(), session.now())
        .await
        .map_err(store_failure)?;
    if json {
        return write_json(out, &key);
    }
    write(
        out,
        &format!(
            "revoked API key `{}` (id {}): role {}, prefix {}; it is refused from now on\n",
            key.name, key.id, key.role, key.prefix
        ),
    )
}
