//! Sentiment of a piece of feedback: a label (positive, neutral, negative) and a compound score
//! in −1..1, computed by VADER's rules over VADER's lexicon.
//!
//! VADER (Valence Aware Dictionary and sEntiment Reasoner) is by C.J. Hutto and Eric Gilbert:
//! *VADER: A Parsimonious Rule-based Model for Sentiment Analysis of Social Media Text*, ICWSM-14,
//! 2014. Its lexicon (`data/vader_lexicon.tsv`, the word and mean valence columns of
//! `vader_lexicon.txt`) and its emoji descriptions (`data/vader_emoji.tsv`, the single-character
//! entries of `emoji_utf8_lexicon.txt`) are MIT-licensed, Copyright (c) 2016 C.J. Hutto; the
//! notice is in `data/VADER-LICENSE.txt`. The rules are reimplemented here from the published
//! description and the reference implementation (vaderSentiment 3.3).
//!
//! On top of VADER: emoji carry a valence of their own (a hand-set table for the common ones, the
//! sum of the lexicon valences of the description words for the rest), a supplement
//! (`src/supplement.rs`) adds English customer-feedback words VADER lacks ("slow", "buggy") and a
//! small French, Spanish and German lexicon of words, negators and boosters, and the look-back
//! window of the negation and booster rules stops at the end of a sentence.
//!
//! ```
//! use tidings_sentiment::{Analyzer, Label};
//!
//! let analyzer = Analyzer::shared();
//! assert_eq!(analyzer.analyze("The coffee was not good").label, Label::Negative);
//! assert_eq!(analyzer.analyze("Livraison rapide, très bien 👍").label, Label::Positive);
//! ```

mod emoji;
mod lexicon;
mod rules;
mod supplement;

use std::sync::LazyLock;

use crate::lexicon::Lexicon;

/// The label of a compound score: positive at 0.05 and above, negative at −0.05 and below (VADER's
/// thresholds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Label {
    Positive,
    Neutral,
    Negative,
}

impl Label {
    /// The compound score at or above which a text is positive.
    pub const POSITIVE_THRESHOLD: f64 = 0.05;
    /// The compound score at or below which a text is negative.
    pub const NEGATIVE_THRESHOLD: f64 = -0.05;

    /// The label of a compound score.
    pub fn from_score(score: f64) -> Self {
        if score >= Self::POSITIVE_THRESHOLD {
            Self::Positive
        } else if score <= Self::NEGATIVE_THRESHOLD {
            Self::Negative
        } else {
            Self::Neutral
        }
    }

    /// `positive`, `neutral` or `negative`, as records store it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Positive => "positive",
            Self::Neutral => "neutral",
            Self::Negative => "negative",
        }
    }

    /// The label a record's `sentiment` field spells, case-insensitively.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Positive, Self::Neutral, Self::Negative]
            .into_iter()
            .find(|label| label.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The sentiment of one text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sentiment {
    pub label: Label,
    /// VADER's compound score, in −1..1.
    pub score: f64,
}

impl Sentiment {
    /// The sentiment of a text with nothing to go on.
    pub const NEUTRAL: Self = Self {
        label: Label::Neutral,
        score: 0.0,
    };

    /// A sentiment from a compound score, clamped to −1..1 (NaN is neutral).
    pub fn from_score(score: f64) -> Self {
        let score = if score.is_nan() {
            0.0
        } else {
            score.clamp(-1.0, 1.0)
        };
        Self {
            label: Label::from_score(score),
            score,
        }
    }
}

/// The analyser: the lexicons, built once. Building parses about 9,000 lexicon lines (a
/// millisecond or so), so build it once and share it: [`Analyzer::shared`] is a process-wide one.
#[derive(Debug, Clone)]
pub struct Analyzer {
    lexicon: Lexicon,
}

static SHARED: LazyLock<Analyzer> = LazyLock::new(Analyzer::new);

impl Analyzer {
    /// Builds the lexicons: VADER's, the emoji table and the French/Spanish/German words.
    pub fn new() -> Self {
        Self {
            lexicon: Lexicon::build(),
        }
    }

    /// The process-wide analyser, built on first use.
    pub fn shared() -> &'static Self {
        &SHARED
    }

    /// The sentiment of `text`. Empty or whitespace-only text, and text with no sentiment-bearing
    /// word, is neutral with score 0.
    pub fn analyze(&self, text: &str) -> Sentiment {
        Sentiment::from_score(rules::compound(&self.lexicon, text))
    }
}

impl Default for Analyzer {
    fn default() -> Self {
        Self::new()
    }
}
