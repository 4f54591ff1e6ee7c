//! The synthetic customer feedback of `samples/feedback.csv`, shared by `tidings-sample` (which
//! writes the file) and `tidings-bench csv-import` (which repeats it into a large file).
//!
//! Everything is derived from one fixed seed through a splitmix64 generator and integer
//! arithmetic only (no floating point, no system time zone database), so the file is the same
//! byte for byte on every machine and every run. The people are invented; the email domains are
//! reserved example domains.

use std::collections::HashSet;

use crate::sample_text::{Lines, Mood, TOOLS, Tool};

const SEED: u64 = 0x7469_6469_6e67_7321;
/// Records in the sample.
pub(crate) const TOTAL: usize = 5200;
const LATE_2024: usize = 200;
/// Extra records in the Checkout outage week (11–14 March 2025).
const OUTAGE_RECORDS: usize = 220;
/// Extra records after the broken mobile app 5.0 release (23–26 September 2025).
const RELEASE_RECORDS: usize = 120;
/// "Now" for the sample: statuses and `Last Modified` are relative to it (2026-01-05T12:00:00Z).
const AS_OF: i64 = days_from_civil(2026, 1, 5) * DAY + 12 * HOUR;
/// A bulk re-tagging that touched many closed records' `Last Modified` (2025-07-01T14:03:00Z).
const BULK_EDIT: i64 = days_from_civil(2025, 7, 1) * DAY + 14 * HOUR + 3 * 60;
const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

const HEADER: [&str; 14] = [
    "ID",
    "Created",
    "Last Modified",
    "Name",
    "Email",
    "Channel",
    "Tool",
    "Rating",
    "Sentiment",
    "Title",
    "Feedback",
    "Tags",
    "Status",
    "Value",
];

/// The sample as CSV text: a header and `rows` records. [`TOTAL`] rows is the sample itself;
/// more repeat its records in order, the `n`th copy's IDs suffixed `-n` so that every row is a
/// record of its own (a large file for import benchmarks).
pub(crate) fn sample_csv(rows: usize) -> String {
    render_csv(&generate(), rows)
}

/// splitmix64 (Steele, Lea and Flood): tiny, fast and good enough for sample data.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }

    /// Up to `k` distinct elements, in random order.
    fn pick_distinct<T: Copy>(&mut self, xs: &[T], k: usize) -> Vec<T> {
        let mut pool = xs.to_vec();
        let mut out = Vec::with_capacity(k);
        while out.len() < k && !pool.is_empty() {
            out.push(pool.swap_remove(self.below(pool.len() as u64) as usize));
        }
        out
    }

    /// An index drawn with the given weights.
    fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        let mut x = self.below(total);
        for (i, &w) in weights.iter().enumerate() {
            if x < u64::from(w) {
                return i;
            }
            x -= u64::from(w);
        }
        weights.len().saturating_sub(1)
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's `days_from_civil`).
const fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number: (year, month, day).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// Monday = 0 … Sunday = 6.
fn weekday(day: i64) -> usize {
    (day + 3).rem_euclid(7) as usize
}

/// The `n`th (1-based) Sunday of a month, as a day number.
fn nth_sunday(year: i64, month: i64, n: i64) -> i64 {
    let first = days_from_civil(year, month, 1);
    first + (6 - weekday(first) as i64) + 7 * (n - 1)
}

/// US Eastern local time (day number, second of day) to Unix seconds: EDT from the second
/// Sunday of March 02:00 to the first Sunday of November 02:00, EST otherwise.
fn eastern_to_utc(day: i64, second: i64) -> i64 {
    let (year, _, _) = civil_from_days(day);
    let start = nth_sunday(year, 3, 2) * DAY + 2 * HOUR;
    let end = nth_sunday(year, 11, 1) * DAY + 2 * HOUR;
    let local = day * DAY + second;
    let offset = if local >= start && local < end { 4 } else { 5 };
    local + offset * HOUR
}

fn year_of(ts: i64) -> i64 {
    civil_from_days(ts.div_euclid(DAY)).0
}

/// RFC 3339 in UTC with a `Z`.
fn rfc3339(ts: i64) -> String {
    let (y, m, d) = civil_from_days(ts.div_euclid(DAY));
    let s = ts.rem_euclid(DAY);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / HOUR,
        s % HOUR / 60,
        s % 60
    )
}

/// Feedback per hour of the day (US Eastern): business hours on weekdays, a later and flatter
/// curve at weekends.
const WEEKDAY_HOURS: [u32; 24] = [
    1, 1, 1, 1, 1, 2, 3, 6, 10, 15, 16, 15, 14, 15, 15, 14, 12, 9, 7, 6, 5, 4, 3, 2,
];
const WEEKEND_HOURS: [u32; 24] = [
    2, 1, 1, 1, 1, 1, 2, 3, 5, 8, 10, 11, 11, 10, 10, 9, 8, 7, 6, 6, 5, 4, 3, 2,
];

/// A moment in `days` (weighted) at a plausible hour, whose UTC year is `year`.
fn moment(rng: &mut Rng, days: &[(i64, u32)], year: i64, flat_hours: bool) -> i64 {
    let weights: Vec<u32> = days.iter().map(|&(_, w)| w).collect();
    let day = days[rng.weighted(&weights)].0;
    loop {
        let hours = if flat_hours || weekday(day) >= 5 {
            &WEEKEND_HOURS
        } else {
            &WEEKDAY_HOURS
        };
        let hour = rng.weighted(hours) as i64;
        let ts = eastern_to_utc(day, hour * HOUR + rng.range(0, HOUR - 1));
        if year_of(ts) == year {
            return ts;
        }
    }
}

/// Days of a period with weights: fewer at weekends, growing month by month.
fn period(from: i64, to: i64) -> Vec<(i64, u32)> {
    (from..=to)
        .map(|day| {
            let dow = match weekday(day) {
                0..=4 => 10,
                5 => 4,
                _ => 3,
            };
            let month = civil_from_days(day).1 as u32;
            (day, dow * (24 + month))
        })
        .collect()
}

struct Customer {
    name: String,
    first: String,
    email: String,
    lang: &'static str,
}

fn customers(rng: &mut Rng, n: usize) -> Vec<Customer> {
    let domain_weights: Vec<u32> = crate::sample_text::DOMAINS
        .iter()
        .map(|&(_, w)| w)
        .collect();
    (0..n)
        .map(|_| {
            let (name, first, local, lang) = if rng.percent(10) {
                let p = &crate::sample_text::WHOLE_NAMES
                    [rng.below(crate::sample_text::WHOLE_NAMES.len() as u64) as usize];
                let first = p.name.split(' ').next().unwrap_or(p.name).to_owned();
                (p.name.to_owned(), first, p.handle.to_owned(), p.lang)
            } else {
                let (f, fh) = rng.pick(crate::sample_text::FIRST_NAMES);
                let (l, lh) = rng.pick(crate::sample_text::LAST_NAMES);
                let local = match rng.weighted(&[35, 20, 15, 15, 15]) {
                    0 => format!("{fh}.{lh}"),
                    1 => format!("{fh}{lh}"),
                    2 => format!("{}.{lh}", &fh[..1]),
                    3 => format!("{fh}_{lh}{}", rng.range(1, 99)),
                    _ => format!("{fh}{}", rng.range(70, 2005)),
                };
                let lang = match f {
                    "José" | "María" | "Lucía" | "Andrés" => "es",
                    "François" | "Chloé" | "Amélie" | "Hélène" => "fr",
                    "Jürgen" => "de",
                    _ => "",
                };
                (format!("{f} {l}"), f.to_owned(), local, lang)
            };
            let local = if rng.percent(3) {
                format!(
                    "{local}+{}",
                    rng.pick(&["coffee", "orders", "shop", "feedback"])
                )
            } else {
                local
            };
            let domain = crate::sample_text::DOMAINS[rng.weighted(&domain_weights)].0;
            let email = if rng.percent(1) {
                format!("{}@{}", capitalise(&local), capitalise(domain))
            } else {
                format!("{local}@{domain}")
            };
            Customer {
                name,
                first,
                email,
                lang,
            }
        })
        .collect()
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Regular,
    /// Long enough to test an importer's field limits (over 2,000 characters).
    Essay,
    Outage,
    Release,
}

struct Record {
    id: String,
    created: i64,
    modified: i64,
    name: String,
    email: String,
    channel: &'static str,
    tool: &'static str,
    rating: String,
    sentiment: String,
    title: String,
    feedback: String,
    tags: String,
    status: &'static str,
    value: String,
}

impl Record {
    fn fields(&self) -> [String; 14] {
        [
            self.id.clone(),
            rfc3339(self.created),
            rfc3339(self.modified),
            self.name.clone(),
            self.email.clone(),
            self.channel.to_owned(),
            self.tool.to_owned(),
            self.rating.clone(),
            self.sentiment.clone(),
            self.title.clone(),
            self.feedback.clone(),
            self.tags.clone(),
            self.status.to_owned(),
            self.value.clone(),
        ]
    }
}

fn generate() -> Vec<Record> {
    let mut rng = Rng(SEED);
    let people = customers(&mut rng, 2400);

    let late_2024 = period(days_from_civil(2024, 10, 1), days_from_civil(2024, 12, 31));
    let year_2025 = period(days_from_civil(2025, 1, 1), days_from_civil(2025, 12, 31));
    let outage_start = days_from_civil(2025, 3, 11);
    let outage: Vec<(i64, u32)> = [30, 35, 25, 10]
        .iter()
        .enumerate()
        .map(|(i, &w)| (outage_start + i as i64, w))
        .collect();
    let release_start = days_from_civil(2025, 9, 23);
    let release: Vec<(i64, u32)> = [40, 30, 20, 10]
        .iter()
        .enumerate()
        .map(|(i, &w)| (release_start + i as i64, w))
        .collect();

    let regular_2025 = TOTAL - LATE_2024 - OUTAGE_RECORDS - RELEASE_RECORDS;
    let mut plan: Vec<(i64, Kind)> = Vec::with_capacity(TOTAL);
    for i in 0..LATE_2024 + regular_2025 {
        let ts = if i < LATE_2024 {
            moment(&mut rng, &late_2024, 2024, false)
        } else {
            moment(&mut rng, &year_2025, 2025, false)
        };
        let kind = if i % 640 == 100 {
            Kind::Essay
        } else {
            Kind::Regular
        };
        plan.push((ts, kind));
    }
    for _ in 0..OUTAGE_RECORDS {
        plan.push((moment(&mut rng, &outage, 2025, true), Kind::Outage));
    }
    for _ in 0..RELEASE_RECORDS {
        plan.push((moment(&mut rng, &release, 2025, true), Kind::Release));
    }

    let mut records: Vec<Record> = plan
        .into_iter()
        .map(|(created, kind)| record(&mut rng, &people, created, kind))
        .collect();
    records.sort_by_key(|r| r.created);

    let mut seen = HashSet::new();
    for r in &mut records {
        r.id = loop {
            let id = airtable_id(&mut rng);
            if seen.insert(id.clone()) {
                break id;
            }
        };
    }
    add_odd_rows(&mut records);
    records
}

fn airtable_id(rng: &mut Rng) -> String {
    const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut id = String::from("rec");
    for _ in 0..14 {
        id.push(char::from(rng.pick(BASE62)));
    }
    id
}

fn tool_index(name: &str) -> usize {
    TOOLS.iter().position(|t| t.name == name).unwrap_or(0)
}

fn record(rng: &mut Rng, people: &[Customer], created: i64, kind: Kind) -> Record {
    let mut tool: &Tool = match kind {
        Kind::Outage => &TOOLS[tool_index("Checkout")],
        Kind::Release => &TOOLS[tool_index("Mobile App")],
        Kind::Regular | Kind::Essay => {
            let weights: Vec<u32> = TOOLS.iter().map(|t| t.weight).collect();
            &TOOLS[rng.weighted(&weights)]
        }
    };
    let channel = match kind {
        Kind::Outage => crate::sample_text::CHANNELS[rng.weighted(&[35, 30, 0, 0, 10, 25, 0])],
        Kind::Release => crate::sample_text::CHANNELS[rng.weighted(&[10, 5, 0, 70, 0, 15, 0])],
        Kind::Essay => "email",
        Kind::Regular => crate::sample_text::CHANNELS[rng.weighted(&tool.channels)],
    };

    // Who: a quarter of the feedback comes from 250 regulars.
    let person = if rng.percent(25) {
        &people[rng.below(250) as usize]
    } else {
        &people[rng.below(people.len() as u64) as usize]
    };
    let (name, email) = match channel {
        "app store" => (
            rng.pick(crate::sample_text::NICKNAMES).to_owned(),
            String::new(),
        ),
        "social" | "in-person" if rng.percent(55) => (person.name.clone(), String::new()),
        _ => (person.name.clone(), person.email.clone()),
    };

    // How many stars: J-shaped, tilted per tool; some channels often carry none.
    let stars: Option<usize> = match kind {
        Kind::Outage => Some(rng.weighted(&[75, 17, 6, 1, 1]) + 1),
        Kind::Release => Some(rng.weighted(&[70, 15, 7, 4, 4]) + 1),
        Kind::Regular | Kind::Essay => {
            let unrated = match channel {
                "app store" => 0,
                "survey" => 2,
                "email" | "chat" => 12,
                "in-person" => 15,
                "phone" => 20,
                _ => 25,
            };
            if rng.percent(unrated) {
                None
            } else {
                let base = [16u32, 7, 9, 20, 48];
                let w: Vec<u32> = base
                    .iter()
                    .zip(tool.rating_tilt)
                    .map(|(b, t)| b * t)
                    .collect();
                Some(rng.weighted(&w) + 1)
            }
        }
    };
    let mood_weights: [u32; 3] = match stars {
        Some(5) => [92, 7, 1],
        Some(4) => [75, 22, 3],
        Some(3) => [15, 60, 25],
        Some(2) => [2, 18, 80],
        Some(_) => [0, 5, 95],
        None => [35, 30, 35],
    };
    let mood = [Mood::Positive, Mood::Neutral, Mood::Negative][rng.weighted(&mood_weights)];

    let foreign: Vec<_> = crate::sample_text::FOREIGN
        .iter()
        .filter(|f| f.0 == person.lang && f.1 == mood)
        .collect();
    let (title, feedback) = if !foreign.is_empty() && kind == Kind::Regular && rng.percent(45) {
        let f = rng.pick(&foreign);
        tool = &TOOLS[tool_index(f.2)];
        (f.3.to_owned(), f.4.to_owned())
    } else {
        let title = match kind {
            Kind::Outage => rng.pick(crate::sample_text::OUTAGE_TITLES),
            Kind::Release => rng.pick(crate::sample_text::RELEASE_TITLES),
            _ if rng.percent(4) => "",
            _ => rng.pick(tool.titles.of(mood)),
        };
        let body = body(rng, tool, channel, mood, kind, &person.first);
        (fill(rng, title, tool.name), fill(rng, &body, tool.name))
    };

    let tags = tags(rng, tool, mood, kind);
    let status = status(rng, created);
    let modified = modified(rng, created, status);
    let value = if rng.percent(u64::from(tool.value_percent)) && channel != "app store" {
        order_value(rng, tool)
    } else {
        String::new()
    };
    Record {
        id: String::new(),
        created,
        modified,
        name,
        email,
        channel,
        tool: tool.name,
        rating: stars.map(|s| s.to_string()).unwrap_or_default(),
        sentiment: if rng.percent(4) {
            String::new()
        } else {
            mood.label().to_owned()
        },
        title,
        feedback,
        tags,
        status,
        value,
    }
}

/// The feedback text, before placeholders are filled.
fn body(rng: &mut Rng, tool: &Tool, channel: &str, mood: Mood, kind: Kind, first: &str) -> String {
    let core: &Lines = match kind {
        Kind::Outage => &crate::sample_text::OUTAGE,
        Kind::Release => &crate::sample_text::RELEASE,
        Kind::Regular | Kind::Essay => &tool.core,
    };
    // Tiny, short, medium, long: short channels write less, email writes more.
    let length = match (kind, channel) {
        (Kind::Essay, _) => 4,
        (_, "app store" | "social") => rng.weighted(&[25, 47, 24, 4]),
        (_, "survey") => rng.weighted(&[20, 40, 30, 10]),
        (_, "email") => rng.weighted(&[5, 25, 40, 30]),
        (_, "in-person") => rng.weighted(&[15, 45, 35, 5]),
        _ => rng.weighted(&[10, 42, 38, 10]),
    };
    let mut text = match length {
        0 => rng.pick(crate::sample_text::TINY.of(mood)).to_owned(),
        1 => {
            let mut s = rng.pick(core.of(mood)).to_owned();
            if rng.percent(50) {
                s.push(' ');
                s.push_str(rng.pick(tool.detail.of(mood)));
            }
            s
        }
        2 => {
            let mut parts = Vec::new();
            if rng.percent(50) {
                parts.push(rng.pick(crate::sample_text::OPENERS.of(mood)).to_owned());
            }
            parts.push(rng.pick(core.of(mood)).to_owned());
            let details = rng.range(1, 3) as usize;
            for detail in rng.pick_distinct(tool.detail.of(mood), details) {
                parts.push(detail.to_owned());
            }
            if mood != Mood::Positive && rng.percent(40) {
                parts.push(rng.pick(tool.requests).to_owned());
            }
            if rng.percent(40) {
                parts.push(rng.pick(crate::sample_text::CLOSERS.of(mood)).to_owned());
            }
            let separator = if rng.percent(25) { "\n" } else { " " };
            parts.join(separator)
        }
        _ => long_body(rng, tool, core, mood, kind, first),
    };
    if channel == "phone" && length > 0 {
        text = format!(
            "{} {text}",
            rng.pick(&[
                "Caller said:",
                "Phone note:",
                "Customer called —",
                "Call summary:"
            ])
        );
    }
    let emoji_chance = if mood == Mood::Positive { 15 } else { 8 };
    if rng.percent(emoji_chance) {
        text.push(' ');
        text.push_str(rng.pick(crate::sample_text::EMOJI.of(mood)));
    }
    text
}

/// Several paragraphs: a greeting, what happened, context, perhaps steps, a request, a sign-off.
/// Essays keep adding context until they pass 2,000 characters.
fn long_body(
    rng: &mut Rng,
    tool: &Tool,
    core: &Lines,
    mood: Mood,
    kind: Kind,
    first: &str,
) -> String {
    let greetings: &[&str] = match mood {
        Mood::Positive => &["Hi team,", "Hello!", "Dear Harbor & Pine team,", "Hi all,"],
        Mood::Neutral => &["Hi,", "Hello,", "Good morning,", "Hi there,"],
        Mood::Negative => &[
            "Hi,",
            "Hello,",
            "To whom it may concern,",
            "Dear support team,",
        ],
    };
    let mut paragraphs = vec![rng.pick(greetings).to_owned()];
    let mut what = rng.pick(core.of(mood)).to_owned();
    let details = rng.range(1, 2) as usize;
    for detail in rng.pick_distinct(tool.detail.of(mood), details) {
        what.push(' ');
        what.push_str(detail);
    }
    paragraphs.push(what);
    if kind == Kind::Essay {
        // Every story of the mood, then the neutral ones, then the suggestions as a list.
        let stories = crate::sample_text::STORY.of(mood).len();
        paragraphs.extend(
            rng.pick_distinct(crate::sample_text::STORY.of(mood), stories)
                .into_iter()
                .map(str::to_owned),
        );
        if mood == Mood::Negative {
            paragraphs.push(rng.pick(crate::sample_text::STEPS).to_owned());
        }
        if mood != Mood::Neutral {
            paragraphs.extend(
                crate::sample_text::STORY
                    .of(Mood::Neutral)
                    .iter()
                    .map(|&s| s.to_owned()),
            );
        }
        let mut list = String::from("A few suggestions, for what they're worth:");
        for request in tool.requests {
            list.push_str("\n- ");
            list.push_str(request);
        }
        paragraphs.push(list);
        // Still short: whatever else this customer might plausibly add, each at most once.
        let mut more: Vec<&str> = crate::sample_text::ESSAY.of(mood).to_vec();
        more.extend_from_slice(crate::sample_text::STORY.of(Mood::Positive));
        more.extend_from_slice(tool.core.of(mood));
        more.extend_from_slice(tool.detail.of(mood));
        for extra in more {
            if paragraphs.iter().map(String::len).sum::<usize>() >= 2100 {
                break;
            }
            if !paragraphs.iter().any(|p| p.contains(extra)) {
                paragraphs.push(extra.to_owned());
            }
        }
        paragraphs.push(format!(
            "P.S. {}",
            rng.pick(&[
                "Sorry this got so long.",
                "Feel free to share this with the team.",
                "I've kept a copy of this email.",
            ])
        ));
    } else {
        paragraphs.push(rng.pick(crate::sample_text::STORY.of(mood)).to_owned());
        if mood == Mood::Negative && rng.percent(35) {
            paragraphs.push(rng.pick(crate::sample_text::STEPS).to_owned());
        }
    }
    let mut ending = String::new();
    if kind != Kind::Essay && (mood != Mood::Positive || rng.percent(30)) {
        ending.push_str(rng.pick(tool.requests));
        ending.push(' ');
    }
    ending.push_str(rng.pick(crate::sample_text::CLOSERS.of(mood)));
    ending.push('\n');
    ending.push_str(first);
    paragraphs.push(ending);
    paragraphs.join("\n\n")
}

/// Replaces `{item}`, `{staff}`, `{n}`, `{mins}`, `{day}`, `{order}` and `{tool}`, each
/// occurrence drawn afresh.
fn fill(rng: &mut Rng, template: &str, tool: &str) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open..];
        let Some(close) = after.find('}') else {
            break;
        };
        let key = &after[1..close];
        let value = match key {
            "item" => rng.pick(crate::sample_text::ITEMS).to_owned(),
            "staff" => rng.pick(crate::sample_text::STAFF).to_owned(),
            "n" => rng.range(2, 6).to_string(),
            "mins" => (rng.range(2, 11) * 5).to_string(),
            "day" => rng.pick(crate::sample_text::WEEKDAYS).to_owned(),
            "order" => format!("#{}", rng.range(10_000, 99_999)),
            "tool" => tool.to_owned(),
            _ => after[..=close].to_owned(),
        };
        out.push_str(&value);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// Zero to four tags from the tool's and the mood's vocabulary, joined by commas.
fn tags(rng: &mut Rng, tool: &Tool, mood: Mood, kind: Kind) -> String {
    let mut chosen: Vec<&str> = Vec::new();
    match kind {
        Kind::Outage => chosen.extend(["outage", "checkout"]),
        Kind::Release => chosen.extend(["mobile", "crash"]),
        Kind::Regular | Kind::Essay => {}
    }
    let count = rng.weighted(&[25, 35, 25, 11, 4]);
    let mut vocabulary: Vec<&str> = tool.tags.to_vec();
    vocabulary.extend_from_slice(crate::sample_text::MOOD_TAGS.of(mood));
    while chosen.len() < count {
        let tag = rng.pick(&vocabulary);
        if !chosen.contains(&tag) {
            chosen.push(tag);
        }
    }
    chosen.join(",")
}

/// Older feedback is more often closed.
fn status(rng: &mut Rng, created: i64) -> &'static str {
    const STATUSES: [&str; 5] = ["new", "triaged", "in progress", "replied", "closed"];
    let age_days = (AS_OF - created) / DAY;
    let weights: [u32; 5] = match age_days {
        ..14 => [40, 25, 15, 12, 8],
        14..45 => [10, 20, 15, 25, 30],
        45..120 => [3, 7, 8, 27, 55],
        _ => [1, 2, 3, 19, 75],
    };
    STATUSES[rng.weighted(&weights)]
}

/// When a record was last touched: soon after creation for new feedback, later as it moves on.
fn modified(rng: &mut Rng, created: i64, status: &str) -> i64 {
    let delay = match status {
        "new" if rng.percent(50) => 0,
        "new" => rng.range(60, 4 * HOUR),
        "triaged" => rng.range(HOUR, 3 * DAY),
        "in progress" => rng.range(DAY, 14 * DAY),
        "replied" => rng.range(2 * HOUR, 7 * DAY),
        _ if created < BULK_EDIT && rng.percent(8) => BULK_EDIT - created,
        _ => rng.range(DAY, 30 * DAY),
    };
    (created + delay).min(AS_OF).max(created)
}

/// An order value in dollars and cents.
fn order_value(rng: &mut Rng, tool: &Tool) -> String {
    let cents = if tool.name == "Wholesale Portal" {
        rng.range(20_000, 250_000)
    } else {
        let buckets: [(i64, i64); 5] = [
            (350, 1_200),
            (1_200, 3_000),
            (3_000, 6_000),
            (6_000, 15_000),
            (15_000, 80_000),
        ];
        let (lo, hi) = buckets[rng.weighted(&[25, 35, 25, 12, 3])];
        rng.range(lo, hi)
    };
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// A handful of rows an importer must survive, at fixed places in the file.
fn add_odd_rows(records: &mut [Record]) {
    let Some(r) = records.get_mut(1207) else {
        return;
    };
    r.name = String::new();
    r.email = String::new();

    if let Some(r) = records.get_mut(1733) {
        r.feedback = "   \n\t  ".to_owned();
    }
    if let Some(r) = records.get_mut(2291) {
        r.tool = "Checkout";
        r.rating = "2".to_owned();
        r.sentiment = "negative".to_owned();
        r.title = "The checkout page, the app and the website all say different things about \
                   whether my order went through, and I have now been charged, refunded, charged \
                   again and sent two confirmation emails for an order that the café says does \
                   not exist, so could someone please, please look at this before Friday because \
                   it was meant to be a gift"
            .to_owned();
    }
    if let Some(r) = records.get_mut(2718) {
        r.rating = "4.5".to_owned();
        r.sentiment = "positive".to_owned();
    }
    if let Some(r) = records.get_mut(3141) {
        r.name = "Dana Whitfield".to_owned();
        r.email = "dana.whitfield+tidings-test@example.com".to_owned();
    }
    if let Some(r) = records.get_mut(3590) {
        r.name = "  Sam Lee ".to_owned();
        r.email = "SAM.LEE@EXAMPLE.COM".to_owned();
    }
    if let Some(r) = records.get_mut(4021) {
        r.feedback = "\"Great\", they said. \"Fast,\" they said. Well, it wasn't \"great\", \
                      or \"fast\", or even \"\"okay\"\"."
            .to_owned();
    }
    if let Some(r) = records.get_mut(4444) {
        r.tags = "bug,,outage,".to_owned();
        r.value = "0.00".to_owned();
    }
    if let Some(r) = records.get_mut(4800) {
        r.feedback = "Line one from an old Windows mail client.\r\nLine two.\r\n".to_owned();
    }
}

/// RFC 4180 quoting (fields with a comma, quote, line break or edge whitespace are quoted,
/// quotes doubled); records end with `\n`. `rows` records, repeating `records` as needed.
fn render_csv(records: &[Record], rows: usize) -> String {
    let mut out = String::with_capacity(rows * 512);
    push_row(&mut out, HEADER.iter().copied());
    for (i, r) in records.iter().cycle().take(rows).enumerate() {
        let mut fields = r.fields();
        let copy = i / records.len().max(1);
        if copy > 0 {
            fields[0] = format!("{}-{}", fields[0], copy + 1);
        }
        push_row(&mut out, fields.iter().map(String::as_str));
    }
    out
}

fn push_row<'a>(out: &mut String, fields: impl Iterator<Item = &'a str>) {
    for (i, field) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        let needs_quotes = field.contains([',', '"', '\n', '\r'])
            || field.starts_with(char::is_whitespace)
            || field.ends_with(char::is_whitespace);
        if needs_quotes {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(field);
        }
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_file_every_time() {
        assert_eq!(sample_csv(TOTAL), sample_csv(TOTAL));
    }

    #[test]
    fn five_thousand_of_the_records_are_from_2025() {
        let records = generate();
        assert_eq!(records.len(), TOTAL);
        let in_2025 = records
            .iter()
            .filter(|r| year_of(r.created) == 2025)
            .count();
        assert_eq!(in_2025, 5000);
        assert!(records.iter().all(|r| r.modified >= r.created));
    }

    #[test]
    fn eastern_time_follows_daylight_saving() {
        // 2025-01-15 09:00 EST and 2025-07-15 09:00 EDT.
        assert_eq!(
            rfc3339(eastern_to_utc(days_from_civil(2025, 1, 15), 9 * HOUR)),
            "2025-01-15T14:00:00Z"
        );
        assert_eq!(
            rfc3339(eastern_to_utc(days_from_civil(2025, 7, 15), 9 * HOUR)),
            "2025-07-15T13:00:00Z"
        );
    }

    #[test]
    fn quotes_are_doubled_and_fields_with_commas_quoted() {
        let mut out = String::new();
        push_row(&mut out, ["a", "b,c", "say \"hi\"", " x"].into_iter());
        assert_eq!(out, "a,\"b,c\",\"say \"\"hi\"\"\",\" x\"\n");
    }
}
