//! The fake as a client sees it: pagination, formulas, field selection, the rate limit and its
//! penalty, expiring offsets, scripted faults and the admin routes.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tidings_core::ManualClock;
use tidings_fake_airtable::{FakeAirtable, FakeConfig, Fault, FaultKind};

fn http() -> reqwest::Client {
    let _already = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().build().expect("a test request")
}

async fn get(fake: &FakeAirtable, query: &[(&str, &str)]) -> (u16, Value) {
    let mut url = reqwest::Url::parse(&format!(
        "{}/v0/{}/{}",
        fake.url(),
        fake.base(),
        fake.table()
    ))
    .expect("a test request");
    url.query_pairs_mut().extend_pairs(query);
    let response = http()
        .get(url)
        .bearer_auth(fake.token())
        .send()
        .await
        .expect("a test request");
    let status = response.status().as_u16();
    (
        status,
        serde_json::from_slice(&response.bytes().await.expect("a test request"))
            .unwrap_or(Value::Null),
    )
}

fn quick(records: usize) -> FakeConfig {
    FakeConfig {
        rate_limit: 1000,
        ..FakeConfig::generated(records, 7)
    }
}

#[tokio::test]
async fn pages_follow_offsets_to_the_end_in_a_stable_order() {
    let fake = FakeAirtable::start(quick(250)).await;
    let mut ids = Vec::new();
    let mut offset: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut query = vec![("pageSize", "100")];
        if let Some(o) = &offset {
            query.push(("offset", o));
        }
        let (status, body) = get(&fake, &query).await;
        assert_eq!(status, 200, "{body}");
        pages += 1;
        for record in body["records"].as_array().unwrap() {
            ids.push(record["id"].as_str().unwrap().to_owned());
            assert!(record["createdTime"].as_str().unwrap().ends_with(".000Z"));
        }
        match body["offset"].as_str() {
            Some(next) => {
                assert!(next.starts_with("itr") && next.contains("/rec"), "{next}");
                offset = Some(next.to_owned());
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let all: Vec<String> = fake.records().into_iter().map(|r| r.id).collect();
    assert_eq!(ids, all);
    let log = fake.requests();
    let pages: Vec<Option<u64>> = log.iter().map(|r| r.page).collect();
    assert_eq!(pages, [Some(1), Some(2), Some(3)]);
}

#[tokio::test]
async fn formulas_and_fields_select_records_and_cells() {
    let fake = FakeAirtable::start(quick(300)).await;
    let in_2025 = fake.count_matching("YEAR({Created})=2025").unwrap();
    let (status, body) = get(
        &fake,
        &[
            ("filterByFormula", "YEAR({Created})=2025"),
            ("fields[]", "Created"),
            ("fields[]", "Rating"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    let records = body["records"].as_array().unwrap();
    assert_eq!(records.len(), 100);
    assert!(in_2025 > 250 && in_2025 < 300, "{in_2025}");
    for record in records {
        let fields = record["fields"].as_object().unwrap();
        assert!(fields["Created"].as_str().unwrap().starts_with("2025"));
        assert!(
            fields.keys().all(|k| k == "Created" || k == "Rating"),
            "{fields:?}"
        );
    }

    let (status, body) = get(&fake, &[("filterByFormula", "LEN({Summary})>3")]).await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["type"], "INVALID_FILTER_BY_FORMULA");
    let (status, body) = get(&fake, &[("fields[]", "Mood")]).await;
    assert_eq!(
        (status, body["error"]["type"].as_str()),
        (422, Some("UNKNOWN_FIELD_NAME"))
    );
    let (status, _) = get(&fake, &[("pageSize", "101")]).await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn the_wrong_token_base_or_table_is_refused_like_airtable() {
    let fake = FakeAirtable::start(quick(5)).await;
    let client = http();
    let response = client
        .get(format!(
            "{}/v0/{}/{}",
            fake.url(),
            fake.base(),
            fake.table()
        ))
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json_body().await;
    assert_eq!(body["error"]["type"], "AUTHENTICATION_REQUIRED");
    for path in [
        format!("/v0/appNope/{}", fake.table()),
        format!("/v0/{}/Nope", fake.base()),
    ] {
        let response = client
            .get(format!("{}{path}", fake.url()))
            .bearer_auth(fake.token())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
}

#[tokio::test]
async fn going_over_the_rate_limit_earns_a_penalty_for_the_whole_base() {
    let fake = FakeAirtable::start(FakeConfig {
        penalty: Duration::from_millis(300),
        ..FakeConfig::generated(5, 7)
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(get(&fake, &[]).await.0);
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429]);
    let (_, body) = get(&fake, &[]).await;
    assert_eq!(body["errors"][0]["error"], "RATE_LIMIT_REACHED");
    assert_eq!(fake.rate_limited_count(), 3);
    assert!(fake.max_requests_in_any_second() >= 8);
}

#[tokio::test]
async fn expired_offsets_are_refused() {
    let fake = FakeAirtable::start(FakeConfig {
        offset_lifetime: Duration::ZERO,
        ..quick(150)
    })
    .await;
    let (_, first) = get(&fake, &[]).await;
    let offset = first["offset"].as_str().unwrap().to_owned();
    let (status, body) = get(&fake, &[("offset", &offset)]).await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["type"], "LIST_RECORDS_ITERATOR_NOT_AVAILABLE");
}

#[tokio::test]
async fn scripted_faults_hit_the_page_they_target_once() {
    let fake = FakeAirtable::start(quick(250)).await;
    fake.push_fault(Fault::at_page(2, FaultKind::Status500));
    fake.push_fault(FaultKind::TooManyRequests {
        retry_after: Some(7),
    });
    let (status, _) = get(&fake, &[]).await;
    assert_eq!(status, 429);
    let (status, first) = get(&fake, &[]).await;
    assert_eq!(status, 200);
    let offset = first["offset"].as_str().unwrap().to_owned();
    let (status, body) = get(&fake, &[("offset", &offset)]).await;
    assert_eq!(
        (status, body["error"]["type"].as_str()),
        (500, Some("SERVER_ERROR"))
    );
    let (status, _) = get(&fake, &[("offset", &offset)]).await;
    assert_eq!(status, 200);
    assert_eq!(fake.pending_faults(), 0);
    assert_eq!(fake.rate_limited_count(), 1);

    fake.push_fault(FaultKind::TruncatedJson);
    let (status, body) = get(&fake, &[]).await;
    assert_eq!((status, body), (200, Value::Null));
    fake.push_fault(FaultKind::ResetConnection);
    let url = format!("{}/v0/{}/{}", fake.url(), fake.base(), fake.table());
    // The connection breaks before or while the body is sent: either way no page arrives.
    let broken = match http().get(&url).bearer_auth(fake.token()).send().await {
        Ok(response) => response.bytes().await.is_err(),
        Err(error) => error.is_request() || error.is_body(),
    };
    assert!(broken);
    assert_eq!(get(&fake, &[]).await.0, 200);
}

#[tokio::test]
async fn updates_bump_the_modified_time_that_formulas_see() {
    let clock = ManualClock::new("2026-07-01T00:00:00Z".parse().unwrap());
    let fake = FakeAirtable::start(FakeConfig {
        clock: Arc::new(clock.clone()),
        ..quick(100)
    })
    .await;
    let id = fake.records()[3].id.clone();
    let after = "IS_AFTER(LAST_MODIFIED_TIME(), '2026-06-30T00:00:00.000Z')";
    assert_eq!(fake.count_matching(after), Ok(0));
    let mut fields = serde_json::Map::new();
    fields.insert("Status".to_owned(), json!("Closed"));
    let updated = fake.update(&id, fields).unwrap();
    assert_eq!(updated.fields["Last Modified"], "2026-07-01T00:00:00.000Z");
    assert_eq!(fake.ids_matching(after), Ok(vec![id.clone()]));
    assert!(fake.delete(&id));
    assert_eq!(fake.count_matching(after), Ok(0));
    assert_eq!(fake.records().len(), 99);
}

#[tokio::test]
async fn admin_routes_manage_records_and_faults() {
    let fake = FakeAirtable::start(quick(3)).await;
    let client = http();
    let created: Value = client
        .post(format!("{}/_fake/records", fake.url()))
        .json_body(
            &json!({"fields": {"Feedback": "Made by hand", "Created": "2025-02-02T00:00:00.000Z"}}),
        )
        .send()
        .await
        .unwrap()
        .json_body()
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(fake.records().len(), 4);
    let response = client
        .patch(format!("{}/_fake/records/{id}", fake.url()))
        .json_body(&json!({"fields": {"Feedback": "Edited"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(fake.records()[3].fields["Feedback"], "Edited");
    let response = client
        .post(format!("{}/_fake/faults", fake.url()))
        .json_body(&json!({"kind": "status500", "page": 1, "times": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(fake.pending_faults(), 2);
    let response = client
        .delete(format!("{}/_fake/records/{id}", fake.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(fake.records().len(), 3);
    let log: Value = client
        .get(format!("{}/_fake/requests", fake.url()))
        .send()
        .await
        .unwrap()
        .json_body()
        .await;
    assert_eq!(log.as_array().unwrap().len(), 0);
}

/// JSON without reqwest's `json` feature, which the workspace leaves off.
trait JsonBody {
    fn json_body(self, value: &Value) -> Self;
}

impl JsonBody for reqwest::RequestBuilder {
    fn json_body(self, value: &Value) -> Self {
        self.header("content-type", "application/json")
            .body(value.to_string())
    }
}

trait ReadJson {
    async fn json_body(self) -> Value;
}

impl ReadJson for reqwest::Response {
    async fn json_body(self) -> Value {
        let bytes = self.bytes().await.expect("a body");
        serde_json::from_slice(&bytes).expect("a JSON body")
    }
}
