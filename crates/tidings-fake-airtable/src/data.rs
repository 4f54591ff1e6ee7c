//! The fake's records: Airtable's shape (`{"id", "createdTime", "fields"}`), a deterministic
//! generator shaped like `bench/fastapi_feedback/gen_data.py`, and reading that script's JSON lines.

use std::io::BufRead;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// A record as Airtable lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FakeRecord {
    /// `rec` and 14 characters; empty asks the fake to make one up.
    #[serde(default)]
    pub id: String,
    #[serde(rename = "createdTime", default)]
    pub created_time: Option<Timestamp>,
    #[serde(default)]
    pub fields: Map<String, Value>,
}

/// Every field the generator writes.
pub const GENERATED_FIELDS: [&str; 19] = [
    "Feedback ID",
    "Created",
    "Last Modified",
    "Customer Name",
    "Customer Email",
    "Company",
    "Channel",
    "Product Area",
    "Tool",
    "Sentiment",
    "Sentiment Score",
    "Summary",
    "Feedback",
    "Rating",
    "Tags",
    "Status",
    "Priority",
    "Venue",
    "Customer Value",
];

const TOOLS: &[&str] = &[
    "Claude Code",
    "Cursor",
    "Copilot",
    "Windsurf",
    "Aider",
    "Cline",
    "Zed AI",
    "Tabnine",
    "Codeium",
    "JetBrains AI",
    "Replit Agent",
    "Devin",
];
const CHANNELS: &[&str] = &["Email", "Chat", "Phone", "Survey", "App Review", "Social"];
const AREAS: &[&str] = &[
    "Onboarding",
    "Billing",
    "Performance",
    "Accuracy",
    "Integrations",
    "UI",
    "Docs",
    "Pricing",
];
const STATUSES: &[&str] = &["New", "In Review", "Actioned", "Closed"];
const TAGS: &[&str] = &[
    "bug",
    "feature-request",
    "praise",
    "latency",
    "pricing",
    "ux",
    "docs",
    "security",
    "crash",
    "refund",
];
const VENUES: &[&str] = &[
    "Downtown",
    "Harbor",
    "Airport",
    "Uptown",
    "Riverside",
    "Old Town",
];
const COMPANIES: &[&str] = &["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark"];
const PRIORITIES: &[&str] = &["Low", "Medium", "High", "Urgent"];
const FIRST: &[&str] = &[
    "Ana", "Bo", "Chen", "Dara", "Émile", "Farah", "Goran", "Hana", "Ivan", "Jae", "Kofi", "Léa",
    "Mateus", "Noor", "Olu", "Priya",
];
const LAST: &[&str] = &[
    "Smith", "Okafor", "Nguyen", "García", "Müller", "Kowalski", "Tanaka", "Haddad", "O'Brien",
    "Ivanova",
];
const POSITIVE: &[&str] = &[
    "Love how fast it is",
    "Saved me hours this week",
    "The new release is excellent",
    "Great support team 👍",
    "Really intuitive, well done",
];
const NEGATIVE: &[&str] = &[
    "It crashed twice today",
    "Way too slow on large repos",
    "Billing charged me twice!!",
    "Not good at all, very disappointing",
    "Support never answered 😡",
    "Suggestions are often wrong",
];
const NEUTRAL: &[&str] = &[
    "Works as expected",
    "Would like an option to export",
    "Docs could mention the config file",
    "Using it for a month now",
];

/// splitmix64: small, fast, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// In [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// `count` records from `seed`, always the same for the same arguments: about 90 % created in
/// 2025, 5 % in 2024 and 5 % early in 2026; some without a rating or a summary; unicode names and
/// emoji; every 997th feedback very long.
pub fn generate(count: usize, seed: u64) -> Vec<FakeRecord> {
    let mut rng = Rng(seed ^ 0x7469_6469_6e67_7321);
    let year_2025 = Timestamp::constant(1_735_689_600, 0); // 2025-01-01T00:00:00Z
    let year = 365 * 86_400;
    (1..=count)
        .map(|i| {
            let pick = rng.unit();
            let offset = if pick < 0.9 {
                rng.below(year) as i64
            } else if pick < 0.95 {
                -(1 + rng.below(year - 1) as i64)
            } else {
                year as i64 + rng.below(60 * 86_400) as i64
            };
            let created = year_2025 + SignedDuration::from_secs(offset);
            let modified = created + SignedDuration::from_secs(rng.below(30 * 86_400) as i64);
            let rating = [1, 2, 3, 4, 5, 5, 4, 4, 0][rng.below(9) as usize];
            let mood = match rating {
                0 | 3 => "Neutral",
                4 | 5 => "Positive",
                _ => "Negative",
            };
            let pool = match mood {
                "Positive" => POSITIVE,
                "Negative" => NEGATIVE,
                _ => NEUTRAL,
            };
            let sentences = 3 + rng.below(10);
            let mut body = (0..sentences)
                .map(|_| format!("{}.", rng.pick(pool)))
                .collect::<Vec<_>>()
                .join(" ");
            if i % 997 == 0 {
                body = body.repeat(20);
            }
            let name = format!("{} {}", rng.pick(FIRST), rng.pick(LAST));
            let email = format!(
                "{}@example.com",
                name.to_lowercase().replace(' ', ".").replace('\'', "")
            );
            let magnitude = 0.2 + 0.8 * rng.unit();
            let score = match mood {
                "Positive" => magnitude,
                "Negative" => -magnitude,
                _ => magnitude * (0.4 * rng.unit() - 0.2),
            };
            let mut tags: Vec<&str> = Vec::new();
            for _ in 0..rng.below(4) {
                let tag = rng.pick(TAGS);
                if !tags.contains(&tag) {
                    tags.push(tag);
                }
            }
            let summary: String = body.chars().take(120).collect();
            let mut fields = json!({
                "Feedback ID": i,
                "Created": airtable_time(created),
                "Last Modified": airtable_time(modified),
                "Customer Name": name,
                "Customer Email": email,
                "Company": rng.pick(COMPANIES),
                "Channel": rng.pick(CHANNELS),
                "Product Area": rng.pick(AREAS),
                "Tool": rng.pick(TOOLS),
                "Sentiment": mood,
                "Sentiment Score": (score * 1000.0).round() / 1000.0,
                "Summary": summary,
                "Feedback": body,
                "Tags": tags,
                "Status": rng.pick(STATUSES),
                "Priority": rng.pick(PRIORITIES),
                "Venue": rng.pick(VENUES),
                "Customer Value": (rng.unit() * 500_000.0).round() / 100.0,
            });
            if let Some(map) = fields.as_object_mut() {
                if rating != 0 {
                    map.insert("Rating".to_owned(), json!(rating));
                }
                if rng.unit() < 0.05 {
                    map.remove("Summary");
                }
                if map
                    .get("Tags")
                    .and_then(Value::as_array)
                    .is_some_and(Vec::is_empty)
                {
                    map.remove("Tags");
                }
            }
            FakeRecord {
                id: format!("rec{:03}{i:011}", seed % 1000),
                created_time: Some(created),
                fields: match fields {
                    Value::Object(map) => map,
                    _ => Map::new(),
                },
            }
        })
        .collect()
}

/// Reads Airtable-style JSON lines (`gen_data.py --jsonl`); blank lines are skipped.
pub fn read_jsonl(reader: impl BufRead) -> Result<Vec<FakeRecord>, String> {
    let mut records = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| format!("line {}: {e}", n + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let record: FakeRecord =
            serde_json::from_str(&line).map_err(|e| format!("line {}: {e}", n + 1))?;
        records.push(record);
    }
    Ok(records)
}

/// A time as Airtable writes it: `2025-03-09T07:00:00.000Z`.
pub fn airtable_time(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_records_mostly_in_2025() {
        let a = generate(2000, 7);
        assert_eq!(a, generate(2000, 7));
        assert_ne!(a, generate(2000, 8));
        let in_2025 = a
            .iter()
            .filter(|r| r.fields["Created"].as_str().unwrap().starts_with("2025"))
            .count();
        assert!((1700..1900).contains(&in_2025), "{in_2025}");
        assert!(a.iter().any(|r| !r.fields.contains_key("Rating")));
        assert!(
            a.iter()
                .any(|r| r.fields["Feedback"].as_str().unwrap().len() > 2000)
        );
        assert_eq!(a[0].id, "rec00700000000001");
        assert_eq!(a[0].id.len(), 17);
    }

    #[test]
    fn json_lines_in_gen_data_py_form_are_read() {
        let text = r#"{"id": "rec00700000000001", "createdTime": "2025-03-09T07:00:00.000Z", "fields": {"Feedback ID": 1, "Tags": ["bug"]}}

{"id": "rec00700000000002", "createdTime": "2024-03-09T07:00:00.000Z", "fields": {}}
"#;
        let records = read_jsonl(text.as_bytes()).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(
            records[0].created_time,
            Some("2025-03-09T07:00:00Z".parse().unwrap())
        );
        assert!(
            read_jsonl("{".as_bytes())
                .unwrap_err()
                .starts_with("line 1:")
        );
    }
}
