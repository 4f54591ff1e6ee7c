//! Sentiment analysis throughput at ingest: 1,000 feedback texts of about 600 characters each
//! (English with some French, Spanish and German, emoji, caps and exclamation marks), reported
//! as records per second. Goal: ≥ 100,000 records/s on one core. Run with
//! `cargo bench -p tidings-sentiment`.
//!
//! The allocator is mimalloc, as in the `tidings` binary: `analyze` allocates two buffers per
//! text (the word list and the lower-cased word).

use std::sync::LazyLock;

use divan::Bencher;
use divan::counter::{BytesCount, ItemsCount};
use tidings_sentiment::{Analyzer, Label};

const TEXTS: usize = 1_000;
const TEXT_CHARS: usize = 600;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    divan::main();
}

const SENTENCES: &[&str] = &[
    "The flat white was perfect and the barista remembered my name.",
    "Waited 25 minutes for a single espresso, which is not acceptable.",
    "The app crashes every time I open the reports page 😡",
    "Setup took five minutes, very intuitive and the support team was GREAT!!",
    "The coffee was good, but the service was really slow today.",
    "Livraison en retard, mais le personnel était très sympathique.",
    "Muy buen servicio y el café es delicioso 👍",
    "Die App ist sehr langsam und stürzt ständig ab.",
    "We visited the Main Street location on Tuesday around noon.",
    "Not bad at all, I'd definitely come back with my colleagues.",
    "Export fails with a timeout error on large files, kind of annoying.",
    "Could you add an option to export the tags column as well?",
    "The concert was fantastic and the sound was perfect ❤️",
    "Honestly the new pricing is ridiculous for a small team like ours.",
];

/// `TEXTS` texts of about `TEXT_CHARS` characters, each a different run of sentences.
static FEEDBACK: LazyLock<Vec<String>> = LazyLock::new(|| {
    (0..TEXTS)
        .map(|i| {
            let mut text = String::new();
            let mut k = i;
            while text.chars().count() < TEXT_CHARS {
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(SENTENCES[k % SENTENCES.len()]);
                k = k * 7 + 3;
            }
            let cut = text
                .char_indices()
                .nth(TEXT_CHARS)
                .map_or(text.len(), |(at, _)| at);
            text.truncate(cut);
            text
        })
        .collect()
});

#[divan::bench(sample_count = 20)]
fn analyze_600_chars(bencher: Bencher) {
    let analyzer = Analyzer::shared();
    let texts = &*FEEDBACK;
    let bytes: usize = texts.iter().map(String::len).sum();
    bencher
        .counter(ItemsCount::new(TEXTS))
        .counter(BytesCount::new(bytes))
        .bench(|| {
            texts
                .iter()
                .filter(|text| analyzer.analyze(divan::black_box(text)).label == Label::Positive)
                .count()
        });
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn build_analyzer() -> Analyzer {
    Analyzer::new()
}
