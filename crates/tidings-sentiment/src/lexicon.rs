//! The word table: every word the rules know, with its valence and the roles it plays (negator,
//! booster, "but", …), so that a token costs one hash lookup.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::{emoji, supplement};

const VADER_LEXICON: &str = include_str!("../data/vader_lexicon.tsv");
const VADER_EMOJI: &str = include_str!("../data/vader_emoji.tsv");

/// Booster increment and dampener decrement (VADER's `B_INCR`, `B_DECR`).
pub(crate) const B_INCR: f64 = 0.293;
pub(crate) const B_DECR: f64 = -0.293;

/// Roles a word plays in the rules, as bits of [`Entry::flags`].
pub(crate) mod flag {
    pub(crate) const HAS_VALENCE: u16 = 1;
    pub(crate) const BOOSTER: u16 = 1 << 1;
    pub(crate) const NEGATOR: u16 = 1 << 2;
    pub(crate) const NO: u16 = 1 << 3;
    pub(crate) const NEVER: u16 = 1 << 4;
    pub(crate) const SO_OR_THIS: u16 = 1 << 5;
    pub(crate) const WITHOUT: u16 = 1 << 6;
    pub(crate) const DOUBT: u16 = 1 << 7;
    pub(crate) const LEAST: u16 = 1 << 8;
    pub(crate) const AT_OR_VERY: u16 = 1 << 9;
    pub(crate) const OR_NOR: u16 = 1 << 10;
    pub(crate) const KIND_OR_SORT: u16 = 1 << 11;
    pub(crate) const OF: u16 = 1 << 12;
    pub(crate) const BUT: u16 = 1 << 13;
}

/// What the rules know of one word.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Entry {
    /// Lexicon valence (−4..4), meaningful when `flags` has [`flag::HAS_VALENCE`].
    pub(crate) valence: f32,
    /// Booster scalar ([`B_INCR`] or [`B_DECR`]), meaningful with [`flag::BOOSTER`].
    pub(crate) booster: f32,
    pub(crate) flags: u16,
}

/// FxHash (rustc's hasher): the keys are short lowercase words that we ship, not attacker-chosen,
/// so a fast non-DoS-resistant hash is fine.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct WordHasher(u64);

impl WordHasher {
    const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(Self::SEED);
    }
}

impl Hasher for WordHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        // The last 1–7 bytes, read as two overlapping words or three bytes rather than copied
        // into a buffer: a copy of a variable length is a call to `memcpy`, and reading the
        // buffer back right after stalls (most words are shorter than 8 bytes). Equal bytes
        // give equal hashes, which is all a hash must do; the table compares the words.
        let rest = chunks.remainder();
        let n = rest.len();
        if n >= 4 {
            let low = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
            let high = u32::from_le_bytes([rest[n - 4], rest[n - 3], rest[n - 2], rest[n - 1]]);
            self.add(u64::from(low) | (u64::from(high) << 32));
        } else if n > 0 {
            let bytes =
                u64::from(rest[0]) | (u64::from(rest[n / 2]) << 8) | (u64::from(rest[n - 1]) << 16);
            self.add(bytes | ((n as u64) << 24));
        }
    }

    #[inline]
    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

type WordMap = HashMap<Box<str>, Entry, BuildHasherDefault<WordHasher>>;

/// Every known word, lowercase, emoji included (each emoji is a one-character word).
#[derive(Debug, Clone)]
pub(crate) struct Lexicon {
    words: WordMap,
    /// The longest word's length in bytes: longer words are not looked up.
    longest: usize,
}

/// VADER's negations (`NEGATE`); any word containing "n't" is one too.
#[rustfmt::skip]
const NEGATORS: &[&str] = &[
    "aint", "arent", "cannot", "cant", "couldnt", "darent", "didnt", "doesnt", "ain't", "aren't",
    "can't", "couldn't", "daren't", "didn't", "doesn't", "dont", "hadnt", "hasnt", "havent", "isnt",
    "mightnt", "mustnt", "neither", "don't", "hadn't", "hasn't", "haven't", "isn't", "mightn't",
    "mustn't", "neednt", "needn't", "never", "none", "nope", "nor", "not", "nothing", "nowhere",
    "oughtnt", "shant", "shouldnt", "uhuh", "wasnt", "werent", "oughtn't", "shan't", "shouldn't",
    "uh-uh", "wasn't", "weren't", "without", "wont", "wouldnt", "won't", "wouldn't", "rarely",
    "seldom", "despite",
];

/// VADER's boosters (`BOOSTER_DICT` with `B_INCR`).
#[rustfmt::skip]
const BOOSTERS: &[&str] = &[
    "absolutely", "amazingly", "awfully", "completely", "considerable", "considerably", "decidedly",
    "deeply", "effing", "enormous", "enormously", "entirely", "especially", "exceptional",
    "exceptionally", "extreme", "extremely", "fabulously", "flipping", "flippin", "frackin",
    "fracking", "fricking", "frickin", "frigging", "friggin", "fully", "fuckin", "fucking",
    "fuggin", "fugging", "greatly", "hella", "highly", "hugely", "incredible", "incredibly",
    "intensely", "major", "majorly", "more", "most", "particularly", "purely", "quite", "really",
    "remarkably", "so", "substantially", "thoroughly", "total", "totally", "tremendous",
    "tremendously", "uber", "unbelievably", "unusually", "utter", "utterly", "very",
];

/// VADER's dampeners (`BOOSTER_DICT` with `B_DECR`); "kind of" and "sort of" are handled as a
/// pair by the rules.
#[rustfmt::skip]
const DAMPENERS: &[&str] = &[
    "almost", "barely", "hardly", "kinda", "kindof", "kind-of", "less", "little", "marginal",
    "marginally", "occasional", "occasionally", "partly", "scarce", "scarcely", "slight",
    "slightly", "somewhat", "sorta", "sortof", "sort-of",
];

const ROLES: &[(&[&str], u16)] = &[
    (&["no"], flag::NO),
    (&["never"], flag::NEVER),
    (&["so", "this"], flag::SO_OR_THIS),
    (&["without"], flag::WITHOUT),
    (&["doubt"], flag::DOUBT),
    (&["least"], flag::LEAST),
    (&["at", "very"], flag::AT_OR_VERY),
    (&["or", "nor"], flag::OR_NOR),
    (&["kind", "sort"], flag::KIND_OR_SORT),
    (&["of"], flag::OF),
    (&["but"], flag::BUT),
];

impl Lexicon {
    pub(crate) fn build() -> Self {
        let mut words = WordMap::default();
        for line in VADER_LEXICON.lines() {
            let Some((word, valence)) = line.split_once('\t') else {
                continue;
            };
            if let Ok(valence) = valence.trim().parse::<f32>() {
                set_valence(&mut words, &word.to_lowercase(), valence);
            }
        }
        for &word in NEGATORS {
            add_role(&mut words, word, flag::NEGATOR);
        }
        for &word in BOOSTERS {
            add_booster(&mut words, word, B_INCR);
        }
        for &word in DAMPENERS {
            add_booster(&mut words, word, B_DECR);
        }
        for &(list, role) in ROLES {
            for &word in list {
                add_role(&mut words, word, role);
            }
        }
        supplement::add_to(&mut |word, role| match role {
            supplement::Role::Valence(valence) => {
                // VADER's valence wins for a word both lexicons know ("terrible", "super").
                if words
                    .get(word)
                    .is_none_or(|e| e.flags & flag::HAS_VALENCE == 0)
                {
                    set_valence(&mut words, word, valence);
                }
            }
            supplement::Role::Negator => add_role(&mut words, word, flag::NEGATOR),
            supplement::Role::Booster => add_booster(&mut words, word, B_INCR),
            supplement::Role::Dampener => add_booster(&mut words, word, B_DECR),
            supplement::Role::But => add_role(&mut words, word, flag::BUT),
            supplement::Role::Neutral => {
                if let Some(entry) = words.get_mut(word) {
                    entry.flags &= !flag::HAS_VALENCE;
                    entry.valence = 0.0;
                }
            }
        });
        let described = emoji_by_description(&words);
        for (emoji, valence) in described.into_iter().chain(emoji::valences()) {
            let mut key = [0; 4];
            set_valence(&mut words, emoji.encode_utf8(&mut key), valence);
        }
        let longest = words.keys().map(|word| word.len()).max().unwrap_or(0);
        Self { words, longest }
    }

    #[inline]
    pub(crate) fn get(&self, word: &str) -> Option<Entry> {
        if word.len() > self.longest {
            return None;
        }
        self.words.get(word).copied()
    }
}

fn entry<'a>(words: &'a mut WordMap, word: &str) -> &'a mut Entry {
    words.entry(word.into()).or_default()
}

fn set_valence(words: &mut WordMap, word: &str, valence: f32) {
    let entry = entry(words, word);
    entry.valence = valence;
    entry.flags |= flag::HAS_VALENCE;
}

fn add_role(words: &mut WordMap, word: &str, role: u16) {
    entry(words, word).flags |= role;
}

fn add_booster(words: &mut WordMap, word: &str, scalar: f64) {
    let entry = entry(words, word);
    entry.booster = scalar as f32;
    entry.flags |= flag::BOOSTER;
}

/// VADER replaces an emoji with its description ("😡" → "pouting face") and scores the words; we
/// score the description once here: the sum of its words' valences, kept within the lexicon's
/// range. The hand-set table in [`emoji`] overrides these.
fn emoji_by_description(words: &WordMap) -> Vec<(char, f32)> {
    let mut valences = Vec::new();
    for line in VADER_EMOJI.lines() {
        let Some((emoji, description)) = line.split_once('\t') else {
            continue;
        };
        let mut chars = emoji.chars();
        let (Some(emoji), None) = (chars.next(), chars.next()) else {
            continue;
        };
        let valence: f32 = description
            .split(|c: char| !c.is_alphanumeric() && c != '-')
            .filter_map(|word| words.get(word))
            .filter(|e| e.flags & flag::HAS_VALENCE != 0 && e.flags & flag::BOOSTER == 0)
            .map(|e| e.valence)
            .sum();
        if valence != 0.0 {
            valences.push((emoji, valence.clamp(-3.5, 3.5)));
        }
    }
    valences
}
