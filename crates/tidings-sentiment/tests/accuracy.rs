//! Accuracy on the labelled feedback shipped in `data/`: precision and recall per label and
//! overall accuracy, printed as a table (`cargo test -p tidings-sentiment --test accuracy --
//! --nocapture`) and held at or above what was measured, so that a change to the rules or the
//! lexicons that makes them worse fails here. The README quotes the tables.
//!
//! `labelled.csv` is the development set: the supplement lexicon was adjusted while looking at its
//! misses, so its numbers are optimistic. `holdout.csv` was written and labelled afterwards and
//! not tuned against: its numbers are the honest estimate.

use tidings_sentiment::{Analyzer, Label};

const LABELS: [Label; 3] = [Label::Positive, Label::Neutral, Label::Negative];

/// What a set must keep scoring (measured, rounded down). Precision and recall are in `LABELS`
/// order: positive, neutral, negative.
struct Floor {
    accuracy: f64,
    precision: [f64; 3],
    recall: [f64; 3],
}

#[test]
fn labelled_set_precision_and_recall_do_not_regress() {
    check(
        "labelled.csv",
        include_str!("../data/labelled.csv"),
        &Floor {
            accuracy: 0.94,
            precision: [0.95, 0.88, 0.98],
            recall: [0.96, 0.95, 0.92],
        },
    );
}

#[test]
fn holdout_set_precision_and_recall_do_not_regress() {
    check(
        "holdout.csv",
        include_str!("../data/holdout.csv"),
        &Floor {
            accuracy: 0.85,
            precision: [0.87, 0.68, 0.94],
            recall: [0.95, 0.84, 0.75],
        },
    );
}

/// `text,label` rows; the text is quoted CSV-style when it holds a comma or a quote.
fn rows(csv: &str) -> Vec<(String, Label)> {
    csv.lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let (text, label) = line.rsplit_once(',').expect("a text,label row");
            let text = match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
                Some(quoted) => quoted.replace("\"\"", "\""),
                None => text.to_owned(),
            };
            let label = Label::parse(label).unwrap_or_else(|| panic!("bad label in {line:?}"));
            (text, label)
        })
        .collect()
}

fn index(label: Label) -> usize {
    LABELS
        .iter()
        .position(|&l| l == label)
        .expect("a known label")
}

fn check(name: &str, csv: &str, floor: &Floor) {
    let analyzer = Analyzer::new();
    let rows = rows(csv);
    assert!(rows.len() >= 50, "{name} has {} rows", rows.len());

    // confusion[expected][predicted]
    let mut confusion = [[0_usize; 3]; 3];
    let mut misses = Vec::new();
    for (text, expected) in &rows {
        let got = analyzer.analyze(text);
        confusion[index(*expected)][index(got.label)] += 1;
        if got.label != *expected {
            misses.push(format!(
                "  {expected:>8} → {:>8} {:+.3}  {text}",
                got.label, got.score
            ));
        }
    }

    let correct: usize = (0..3).map(|i| confusion[i][i]).sum();
    let accuracy = correct as f64 / rows.len() as f64;
    println!("{name}: {} texts, accuracy {accuracy:.3}", rows.len());
    println!("| label | texts | precision | recall |");
    println!("|---|---:|---:|---:|");
    let mut precision = [0.0; 3];
    let mut recall = [0.0; 3];
    for (i, label) in LABELS.iter().enumerate() {
        let predicted: usize = (0..3).map(|e| confusion[e][i]).sum();
        let actual: usize = confusion[i].iter().sum();
        precision[i] = confusion[i][i] as f64 / predicted.max(1) as f64;
        recall[i] = confusion[i][i] as f64 / actual.max(1) as f64;
        println!(
            "| {label} | {actual} | {:.3} | {:.3} |",
            precision[i], recall[i]
        );
    }
    println!("confusion (rows expected, columns predicted: positive, neutral, negative):");
    for (i, label) in LABELS.iter().enumerate() {
        println!("  {label:>8} {:?}", confusion[i]);
    }
    println!("misclassified:\n{}\n", misses.join("\n"));

    assert!(
        accuracy >= floor.accuracy,
        "{name}: accuracy {accuracy:.3} < {}",
        floor.accuracy
    );
    for (i, label) in LABELS.iter().enumerate() {
        assert!(
            precision[i] >= floor.precision[i],
            "{name}: {label} precision {:.3} < {}",
            precision[i],
            floor.precision[i]
        );
        assert!(
            recall[i] >= floor.recall[i],
            "{name}: {label} recall {:.3} < {}",
            recall[i],
            floor.recall[i]
        );
    }
}
