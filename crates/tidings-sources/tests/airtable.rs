//! The Airtable reader against a real (fake) Airtable over HTTP: whole listings, every kind of
//! failure it must ride out or report, incremental listings, and the shared rate limit.

use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use jiff::Timestamp;
use serde_json::{Map, Value, json};
use tidings_core::ManualClock;
use tidings_fake_airtable::{FakeAirtable, FakeConfig, FakeRecord, Fault, FaultKind};
use tidings_sources::airtable::{
    AirtableClient, AirtableError, AirtableListing, AirtableSettings, AirtableSource,
    AirtableToken, ListProgress, ListQuery,
};
use tokio_util::sync::CancellationToken;

const SEED_FORMULA: &str = "YEAR({Created})=2025";

fn source_for(fake: &FakeAirtable) -> AirtableSource {
    let mut source = AirtableSource::new(fake.base(), fake.table());
    source.api_url = fake.url();
    source.filter_formula = Some(SEED_FORMULA.to_owned());
    source
}

/// Airtable's real rate limit, everything else short.
fn settings() -> AirtableSettings {
    AirtableSettings {
        requests_per_second: 5,
        penalty: Duration::from_millis(200),
        backoff: Duration::from_millis(10),
        max_retries: 3,
        max_restarts: 3,
        request_timeout: Duration::from_secs(5),
        page_size: 100,
    }
}

/// A fake and a client that both allow many requests per second, for tests about something
/// other than the limit.
async fn quick_fake(records: usize) -> (FakeAirtable, AirtableClient) {
    let fake = FakeAirtable::start(FakeConfig {
        rate_limit: 100,
        ..FakeConfig::generated(records, 7)
    })
    .await;
    let client = AirtableClient::new(AirtableSettings {
        requests_per_second: 50,
        page_size: 50,
        ..settings()
    })
    .expect("a client");
    (fake, client)
}

async fn list(
    client: &AirtableClient,
    source: &AirtableSource,
    token: &str,
    query: &ListQuery,
) -> (Result<AirtableListing, AirtableError>, Vec<ListProgress>) {
    let mut seen = Vec::new();
    let mut progress = |p: &ListProgress| seen.push(p.clone());
    let result = client
        .list(
            source,
            &AirtableToken::new(token),
            query,
            &CancellationToken::new(),
            &mut progress,
        )
        .await;
    (result, seen)
}

fn ids(listing: &AirtableListing) -> Vec<String> {
    listing
        .records
        .iter()
        .map(|r| r.external_id.clone())
        .collect()
}

#[tokio::test]
async fn a_full_listing_returns_exactly_the_records_the_formula_selects() {
    let fake = FakeAirtable::start(FakeConfig {
        rate_limit: 100,
        ..FakeConfig::generated(5200, 7)
    })
    .await;
    let client = AirtableClient::new(AirtableSettings {
        requests_per_second: 60,
        ..settings()
    })
    .unwrap();
    let expected = fake.ids_matching(SEED_FORMULA).unwrap();
    assert!((4500..5000).contains(&expected.len()), "{}", expected.len());

    let (listing, progress) = list(
        &client,
        &source_for(&fake),
        fake.token(),
        &ListQuery::default(),
    )
    .await;
    let listing = listing.unwrap();

    assert_eq!(ids(&listing), expected);
    assert!(listing.bad_records.is_empty(), "{:?}", listing.bad_records);
    let pages = expected.len().div_ceil(100) as u64;
    assert_eq!((listing.pages, listing.requests), (pages, pages));
    assert_eq!(
        (listing.rate_limited, listing.retries, listing.restarts),
        (0, 0, 0)
    );
    assert_eq!(progress.len() as u64, pages);
    assert_eq!(progress.last().unwrap().records, expected.len() as u64);
    assert_eq!(fake.rate_limited_count(), 0);

    // Fields land in their columns; the record id is the external id.
    let first = &listing.records[0];
    let raw = &fake.records()[fake
        .records()
        .iter()
        .position(|r| r.id == first.external_id)
        .unwrap()];
    assert_eq!(first.group.as_deref(), raw.fields["Tool"].as_str());
    assert_eq!(first.body.as_deref(), raw.fields["Feedback"].as_str());
    assert_eq!(first.raw, Value::Object(raw.fields.clone()));
    assert_eq!(first.created_at.unwrap().strftime("%Y").to_string(), "2025");
}

#[tokio::test]
async fn a_429_mid_listing_is_waited_out_and_the_listing_completes() {
    let fake = FakeAirtable::start(FakeConfig::generated(600, 7)).await;
    let client = AirtableClient::new(settings()).unwrap();
    fake.push_fault(Fault::at_page(
        3,
        FaultKind::TooManyRequests { retry_after: None },
    ));

    let (listing, progress) = list(
        &client,
        &source_for(&fake),
        fake.token(),
        &ListQuery::default(),
    )
    .await;
    let listing = listing.unwrap();

    assert_eq!(ids(&listing), fake.ids_matching(SEED_FORMULA).unwrap());
    assert_eq!((listing.rate_limited, listing.retries), (1, 0));
    assert_eq!(listing.requests, listing.pages + 1);
    assert_eq!(fake.rate_limited_count(), 1);
    let waits: Vec<Duration> = progress.iter().filter_map(|p| p.waiting).collect();
    assert_eq!(waits, [Duration::from_millis(200)]);
}

#[tokio::test]
async fn retry_after_is_obeyed() {
    let (fake, client) = quick_fake(200).await;
    fake.push_fault(Fault::at_page(
        2,
        FaultKind::TooManyRequests {
            retry_after: Some(1),
        },
    ));
    let (listing, progress) = list(
        &client,
        &source_for(&fake),
        fake.token(),
        &ListQuery::default(),
    )
    .await;
    assert_eq!(listing.unwrap().rate_limited, 1);
    let waits: Vec<Duration> = progress.iter().filter_map(|p| p.waiting).collect();
    assert_eq!(waits, [Duration::from_secs(1)]);
}

#[tokio::test]
async fn transient_failures_are_retried_and_the_listing_completes() {
    for kind in [
        FaultKind::Status500,
        FaultKind::BadGateway,
        FaultKind::ResetConnection,
        FaultKind::TruncatedJson,
        FaultKind::Slow(Duration::from_secs(3)),
    ] {
        let (fake, _) = quick_fake(400).await;
        let client = AirtableClient::new(AirtableSettings {
            requests_per_second: 50,
            page_size: 50,
            request_timeout: Duration::from_millis(700),
            ..settings()
        })
        .unwrap();
        fake.push_fault(Fault::at_page(2, kind.clone()));

        let (listing, progress) = list(
            &client,
            &source_for(&fake),
            fake.token(),
            &ListQuery::default(),
        )
        .await;
        let listing = listing.unwrap_or_else(|e| panic!("{kind:?}: {e}"));

        assert_eq!(
            ids(&listing),
            fake.ids_matching(SEED_FORMULA).unwrap(),
            "{kind:?}"
        );
        assert_eq!((listing.retries, listing.rate_limited), (1, 0), "{kind:?}");
        assert_eq!(listing.requests, listing.pages + 1, "{kind:?}");
        assert_eq!(fake.pending_faults(), 0, "{kind:?}");
        assert_eq!(progress.iter().filter(|p| p.waiting.is_some()).count(), 1);
    }
}

#[tokio::test]
async fn when_retries_run_out_the_error_names_the_page_and_the_cause() {
    let (fake, client) = quick_fake(400).await;
    for _ in 0..4 {
        fake.push_fault(Fault::at_page(2, FaultKind::Status500));
    }
    let (result, _) = list(
        &client,
        &source_for(&fake),
        fake.token(),
        &ListQuery::default(),
    )
    .await;
    let error = result.unwrap_err();
    assert!(matches!(
        error,
        AirtableError::RetriesExhausted {
            page: 2,
            attempts: 4,
            ..
        }
    ));
    assert_eq!(
        error.to_string(),
        "reading page 2 from Airtable failed 4 times; last: Airtable answered 500 Internal \
         Server Error: SERVER_ERROR: Try again. If the problem persists, contact support."
    );
    assert_eq!(fake.list_requests(), 5);
}

#[tokio::test]
async fn an_expired_offset_restarts_the_listing() {
    let (fake, client) = quick_fake(400).await;
    fake.push_fault(Fault::at_page(3, FaultKind::ExpiredOffset));
    let (listing, _) = list(
        &client,
        &source_for(&fake),
        fake.token(),
        &ListQuery::default(),
    )
    .await;
    let listing = listing.unwrap();
    assert_eq!(ids(&listing), fake.ids_matching(SEED_FORMULA).unwrap());
    assert_eq!(listing.restarts, 1);
    assert_eq!(listing.requests, listing.pages + 3);
}

#[tokio::test]
async fn offsets_that_always_expire_fail_after_the_restarts_run_out() {
    let fake = FakeAirtable::start(FakeConfig {
        rate_limit: 100,
        offset_lifetime: Duration::ZERO,
        ..FakeConfig::generated(400, 7)
    })
    .await;
    let client = AirtableClient::new(AirtableSettings {
        requests_per_second: 50,
        page_size: 50,
        ..settings()
    })
    .unwrap();
    let (result, _) = list(
        &client,
        &source_for(&fake),
        fake.token(),
        &ListQuery::default(),
    )
    .await;
    let error = result.unwrap_err();
    assert!(
        matches!(error, AirtableError::TooManyRestarts { restarts: 3 }),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("LIST_RECORDS_ITERATOR_NOT_AVAILABLE")
    );
    // Each attempt: page 1, then page 2's expired offset.
    assert_eq!(fake.list_requests(), 8);
}

#[tokio::test]
async fn a_refused_token_fails_at_once_with_what_to_do() {
    let (fake, client) = quick_fake(100).await;
    let (result, _) = list(
        &client,
        &source_for(&fake),
        "wrong-token",
        &ListQuery::default(),
    )
    .await;
    let error = result.unwrap_err();
    assert_eq!(
        error.to_string(),
        "Airtable refused the token in $AIRTABLE_TOKEN (401): check the token"
    );
    assert_eq!(fake.list_requests(), 1);
}

#[tokio::test]
async fn an_invalid_formula_or_field_fails_at_once_naming_the_setting() {
    let (fake, client) = quick_fake(100).await;
    let mut source = source_for(&fake);
    source.filter_formula = Some("SEARCH('slow', {Feedback})".to_owned());
    let (result, _) = list(&client, &source, fake.token(), &ListQuery::default()).await;
    let error = result.unwrap_err().to_string();
    assert!(error.starts_with("Airtable rejected the request (422 INVALID_FILTER_BY_FORMULA: The formula for filtering records is invalid: unknown function SEARCH"), "{error}");
    assert!(error.contains("fix `filter_formula`"), "{error}");
    assert_eq!(fake.list_requests(), 1);

    let mut source = source_for(&fake);
    source.fields = vec!["Feedback".to_owned(), "Mood".to_owned()];
    let (result, _) = list(&client, &source, fake.token(), &ListQuery::default()).await;
    let error = result.unwrap_err().to_string();
    assert!(
        error.contains("UNKNOWN_FIELD_NAME: Unknown field name: \"Mood\""),
        "{error}"
    );
    assert!(error.contains("`fields`"), "{error}");
    assert_eq!(fake.list_requests(), 2);
}

#[tokio::test]
async fn an_unknown_table_fails_at_once_naming_base_and_table() {
    let (fake, client) = quick_fake(10).await;
    let mut source = source_for(&fake);
    source.table = "Feedbak".to_owned();
    let (result, _) = list(&client, &source, fake.token(), &ListQuery::default()).await;
    assert_eq!(
        result.unwrap_err().to_string(),
        "Airtable has no base `appTidingsFake001` or no table `Feedbak` in it (404): check \
         `base` and `table` in the source's configuration"
    );
    assert_eq!(fake.list_requests(), 1);
}

#[tokio::test]
async fn only_the_chosen_fields_are_fetched() {
    let (fake, client) = quick_fake(120).await;
    let mut source = source_for(&fake);
    source.fields = vec!["Feedback".to_owned(), "Created".to_owned()];
    let (listing, _) = list(&client, &source, fake.token(), &ListQuery::default()).await;
    let listing = listing.unwrap();
    assert!(!listing.records.is_empty());
    for record in &listing.records {
        let raw = record.raw.to_value();
        let keys: Vec<&String> = raw.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["Created", "Feedback"]);
        assert_eq!(record.group, None);
    }
}

#[tokio::test]
async fn an_incremental_listing_returns_only_records_modified_after_the_watermark() {
    let clock = ManualClock::new("2026-06-01T00:00:00Z".parse().unwrap());
    let fake = FakeAirtable::start(FakeConfig {
        rate_limit: 100,
        clock: Arc::new(clock.clone()),
        ..FakeConfig::generated(600, 7)
    })
    .await;
    let client = AirtableClient::new(AirtableSettings {
        requests_per_second: 50,
        ..settings()
    })
    .unwrap();
    let in_2025 = fake.ids_matching(SEED_FORMULA).unwrap();
    let in_2024 = fake.ids_matching("YEAR({Created})=2024").unwrap();

    let watermark: Timestamp = "2026-06-02T12:00:00Z".parse().unwrap();
    clock.set("2026-06-02T11:58:00Z".parse().unwrap()); // inside the 5-minute overlap
    fake.update(&in_2025[10], fields(json!({"Status": "Closed"})))
        .unwrap();
    clock.set("2026-06-02T13:00:00Z".parse().unwrap());
    fake.update(
        &in_2025[20],
        fields(json!({"Status": "Actioned", "Summary": null})),
    )
    .unwrap();
    fake.update(&in_2024[0], fields(json!({"Status": "Closed"})))
        .unwrap();
    clock.set("2026-06-02T11:00:00Z".parse().unwrap()); // before the overlap
    fake.update(&in_2025[30], fields(json!({"Status": "Closed"})))
        .unwrap();

    let source = source_for(&fake);
    let query = ListQuery {
        modified_after: Some(source.incremental_since(watermark)),
    };
    let (listing, _) = list(&client, &source, fake.token(), &query).await;
    let listing = listing.unwrap();

    assert_eq!(ids(&listing), [in_2025[10].clone(), in_2025[20].clone()]);
    let updated = &listing.records[1];
    assert_eq!(updated.status.as_deref(), Some("Actioned"));
    assert!(updated.raw.to_value().get("Summary").is_none());
    assert_eq!(
        updated.updated_at,
        Some("2026-06-02T13:00:00Z".parse().unwrap())
    );
    let sent = &fake.requests()[0].query;
    assert!(
        sent.contains("IS_AFTER%28LAST_MODIFIED_TIME%28%29"),
        "{sent}"
    );
}

#[tokio::test]
async fn records_that_do_not_map_are_set_aside_not_fatal() {
    let (fake, client) = quick_fake(50).await;
    let bad = fake.insert(FakeRecord {
        id: "recBadRating00001".to_owned(),
        created_time: Some("2025-05-05T00:00:00Z".parse().unwrap()),
        fields: fields(json!({"Created": "2025-05-05T00:00:00.000Z", "Rating": "five"})),
    });
    let (listing, _) = list(
        &client,
        &source_for(&fake),
        fake.token(),
        &ListQuery::default(),
    )
    .await;
    let listing = listing.unwrap();
    assert_eq!(listing.bad_records.len(), 1);
    assert_eq!(listing.bad_records[0].id, bad.id);
    assert_eq!(
        listing.bad_records[0].problems[0].to_string(),
        "Rating (rating): \"five\" is not a number"
    );
    assert_eq!(
        listing.records.len() + 1,
        fake.count_matching(SEED_FORMULA).unwrap()
    );
}

#[tokio::test]
async fn concurrent_listings_of_one_base_share_the_limit_and_never_hit_a_429() {
    let fake = FakeAirtable::start(FakeConfig {
        penalty: Duration::from_secs(2),
        ..FakeConfig::generated(150, 7)
    })
    .await;
    let client = AirtableClient::new(AirtableSettings {
        page_size: 10,
        ..settings()
    })
    .unwrap();
    let mut everything = source_for(&fake);
    everything.filter_formula = None;
    let other = client.clone();
    let query = ListQuery::default();
    // At 5/s the 30 requests take about 6 s; far longer means the listings fight over the limit.
    let both = async {
        tokio::join!(
            list(&client, &everything, fake.token(), &query),
            list(&other, &everything, fake.token(), &query),
        )
    };
    let (a, b) = tokio::time::timeout(Duration::from_secs(20), both)
        .await
        .unwrap_or_else(|_| {
            panic!(
                "still listing after 20 s: {} requests, {} answered 429",
                fake.list_requests(),
                fake.rate_limited_count()
            )
        });
    let (a, b) = (a.0.unwrap(), b.0.unwrap());
    assert_eq!((a.records.len(), b.records.len()), (150, 150));
    assert_eq!((a.rate_limited, b.rate_limited), (0, 0));
    assert_eq!(fake.list_requests(), 30);
    assert_eq!(fake.rate_limited_count(), 0);
    let busiest = fake.max_requests_in_any_second();
    assert!(
        (4..=5).contains(&busiest),
        "{busiest} requests in one second"
    );
}

#[tokio::test]
async fn cancelling_interrupts_a_penalty_wait() {
    let (fake, _) = quick_fake(200).await;
    let client = AirtableClient::new(AirtableSettings {
        penalty: Duration::from_secs(600),
        ..settings()
    })
    .unwrap();
    fake.push_fault(Fault::at_page(
        2,
        FaultKind::TooManyRequests { retry_after: None },
    ));
    let cancel = CancellationToken::new();
    let mut progress = |p: &ListProgress| {
        if p.waiting.is_some() {
            cancel.cancel();
        }
    };
    let result = client
        .list(
            &source_for(&fake),
            &AirtableToken::new(fake.token()),
            &ListQuery::default(),
            &cancel.clone(),
            &mut progress,
        )
        .await;
    assert!(matches!(result, Err(AirtableError::Cancelled)));
    assert_eq!(fake.list_requests(), 2);
}

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_token_is_never_shown() {
    let secret = "patSecretToken.0123456789abcdef";
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let fake = FakeAirtable::start(FakeConfig {
        token: secret.to_owned(),
        rate_limit: 100,
        ..FakeConfig::generated(200, 7)
    })
    .await;
    let client = AirtableClient::new(AirtableSettings {
        requests_per_second: 50,
        page_size: 50,
        ..settings()
    })
    .unwrap();
    let source = source_for(&fake);
    fake.push_fault(Fault::at_page(2, FaultKind::Status500));
    fake.push_fault(Fault::at_page(
        3,
        FaultKind::TooManyRequests { retry_after: None },
    ));
    let (listing, _) = list(&client, &source, secret, &ListQuery::default()).await;
    assert_eq!(listing.unwrap().retries, 1);

    let mut errors = Vec::new();
    for _ in 0..4 {
        fake.push_fault(Fault::at_page(1, FaultKind::ResetConnection));
    }
    errors.push(
        list(&client, &source, secret, &ListQuery::default())
            .await
            .0
            .unwrap_err(),
    );
    fake.push_fault(Fault::next(FaultKind::Unauthorized));
    errors.push(
        list(&client, &source, secret, &ListQuery::default())
            .await
            .0
            .unwrap_err(),
    );
    let mut bad = source.clone();
    bad.table = "Nope".to_owned();
    errors.push(
        list(&client, &bad, secret, &ListQuery::default())
            .await
            .0
            .unwrap_err(),
    );

    let token = AirtableToken::new(secret);
    let shown = format!(
        "{token} {token:?} {client:?} {}",
        errors
            .iter()
            .map(|e| format!("{e} {e:?}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(!shown.contains(secret), "{shown}");
    assert!(shown.contains("[redacted] [redacted]"));
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("retrying"), "nothing was captured: {logs}");
    assert!(logs.contains("429"), "{logs}");
    assert!(!logs.contains(secret), "{logs}");
}

#[test]
fn a_source_reads_from_toml_with_defaults() {
    let source: AirtableSource = toml::from_str(
        r#"
        base = "appTidingsFake001"
        table = "Feedback"
        filter_formula = "YEAR({Created})=2025"
        fields = ["Feedback", "Created"]
        overlap = "2m"
        [mapping]
        group = "Product Area"
        "#,
    )
    .unwrap();
    assert_eq!(source.token_env, "AIRTABLE_TOKEN");
    assert_eq!(source.api_url, "https://api.airtable.com");
    assert_eq!(source.overlap, Duration::from_secs(120));
    assert_eq!(source.zone.name(), "UTC");
    assert_eq!(source.check(), Ok(()));
    let watermark: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    assert_eq!(
        source.incremental_since(watermark),
        "2025-12-31T23:58:00Z".parse::<Timestamp>().unwrap()
    );
    let back: AirtableSource = toml::from_str(&toml::to_string(&source).unwrap()).unwrap();
    assert_eq!(back, source);

    let defaults: AirtableSource = toml::from_str("base = \"appX1\"\ntable = \"T\"").unwrap();
    assert_eq!(defaults.overlap, Duration::from_secs(300));

    let unknown = toml::from_str::<AirtableSource>("base = \"appX\"\ntable = \"T\"\ntoken = \"x\"")
        .unwrap_err();
    assert!(
        unknown.to_string().contains("unknown field `token`"),
        "{unknown}"
    );
}

#[test]
fn bad_settings_are_explained() {
    let mut source = AirtableSource::new("tblWrong", "Feedback");
    assert!(source.check().unwrap_err().contains("starts with `app`"));
    source.base = "appOK".to_owned();
    source.api_url = "api.airtable.com".to_owned();
    assert!(source.check().unwrap_err().contains("api_url"));
    source.api_url = "https://api.airtable.com".to_owned();
    source.table = " ".to_owned();
    assert!(source.check().unwrap_err().contains("table is empty"));
}

#[test]
fn the_token_comes_from_the_named_variable() {
    let mut source = AirtableSource::new("appX", "T");
    source.token_env = "TIDINGS_TEST_SURELY_UNSET_AIRTABLE_TOKEN".to_owned();
    assert_eq!(
        source.token().unwrap_err().to_string(),
        "no Airtable token: set the environment variable TIDINGS_TEST_SURELY_UNSET_AIRTABLE_TOKEN \
         to a personal access token with the data.records:read scope"
    );
    // Cargo sets this one for every test run.
    source.token_env = "CARGO_PKG_NAME".to_owned();
    let token = source.token().unwrap();
    assert_eq!(format!("{token} {token:?}"), "[redacted] [redacted]");
    assert_eq!(token, AirtableToken::new("tidings-sources"));
}

fn fields(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}
