//! What can go wrong reading an Airtable table, worded for the person who has to fix it. No
//! variant holds the token.

/// Why an Airtable listing failed.
#[derive(Debug, thiserror::Error)]
pub enum AirtableError {
    #[error("invalid Airtable source: {0}")]
    Config(String),
    #[error(
        "no Airtable token: set the environment variable {env} to a personal access token \
         with the data.records:read scope"
    )]
    MissingToken { env: String },
    #[error("cannot set up the HTTP client for Airtable: {0}")]
    Client(String),
    #[error("Airtable refused the token in ${env} (401): check the token")]
    Unauthorized { env: String },
    #[error(
        "Airtable denied access to table `{table}` of base `{base}` (403): give the token in \
         ${env} access to the base and the data.records:read scope"
    )]
    Forbidden {
        base: String,
        table: String,
        env: String,
    },
    #[error(
        "Airtable has no base `{base}` or no table `{table}` in it (404): check `base` and \
         `table` in the source's configuration"
    )]
    NotFound { base: String, table: String },
    #[error("Airtable rejected the request (422 {kind}: {message}): {fix}")]
    Rejected {
        kind: String,
        message: String,
        /// What to change in the configuration.
        fix: String,
    },
    #[error("Airtable answered {status} on page {page}: {message}")]
    Unexpected {
        status: u16,
        page: u64,
        message: String,
    },
    #[error("reading page {page} from Airtable failed {attempts} times; last: {cause}")]
    RetriesExhausted {
        page: u64,
        attempts: u32,
        cause: String,
    },
    #[error(
        "Airtable's listing expired {restarts} times before it could be read to the end \
         (LIST_RECORDS_ITERATOR_NOT_AVAILABLE): the table is too large to list within the \
         offset's lifetime at this rate; narrow `filter_formula` or retry later"
    )]
    TooManyRestarts { restarts: u64 },
    #[error("the Airtable listing was cancelled")]
    Cancelled,
}

impl AirtableError {
    /// Whether trying again later can succeed without changing the configuration.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            AirtableError::RetriesExhausted { .. }
                | AirtableError::TooManyRestarts { .. }
                | AirtableError::Unexpected { .. }
        )
    }
}
