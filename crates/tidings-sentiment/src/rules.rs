//! VADER's rules (Hutto & Gilbert 2014; vaderSentiment 3.3's `polarity_scores`): split the text
//! into words, give each lexicon word its valence adjusted by the three words before it (boosters,
//! dampeners, negations, "least"), by ALL-CAPS emphasis and by "but", sum, add punctuation
//! emphasis and normalise to −1..1.
//!
//! Where this differs from the reference, on purpose:
//! - the "but" rule stops at the end of a sentence (`.`, `!`, `?`, `;`), and the three-word
//!   look-back (negations, boosters) at the end of a clause (a sentence end, `,` or `:`), so
//!   "Not cheap. Great staff" and "Nicht gut, leider enttäuscht" do not negate the second part
//!   (VADER's own example "not smart, handsome, nor funny" then negates only "smart" and "funny");
//! - a negation followed by punctuation ("No, it works") negates nothing;
//! - a word with punctuation attached is looked up without it even when short ("ok!", "no,");
//! - emoji are words of their own with a valence, even when glued to text ("great👍");
//! - "kind of" and "sort of" dampen the next word (the reference skips "kind" but never applies
//!   the dampener), and "never so …" is checked as the reference's comments describe;
//! - the idiom table ("cut the mustard", …) is left out.

use crate::emoji;
use crate::lexicon::{B_DECR, Entry, Lexicon, flag};

/// Negation scalar (`N_SCALAR`).
const N_SCALAR: f64 = -0.74;
/// ALL-CAPS increment (`C_INCR`).
const C_INCR: f64 = 0.733;
/// Normalisation constant: compound = sum / sqrt(sum² + ALPHA).
const ALPHA: f64 = 15.0;

/// One word of the text, as the rules see it.
#[derive(Debug, Clone, Copy)]
struct Token {
    entry: Entry,
    /// Has cased letters, all upper case.
    upper: bool,
    /// Ends a sentence: the "but" rule stops after it.
    ends_sentence: bool,
    /// Ends a clause (or a sentence): the look-back stops after it.
    ends_clause: bool,
}

impl Token {
    #[inline]
    fn is(&self, role: u16) -> bool {
        self.entry.flags & role != 0
    }
}

/// The compound score of `text`, in −1..1.
pub(crate) fn compound(lexicon: &Lexicon, text: &str) -> f64 {
    let mut scan = Scan::new(text.len());
    scan.tokenize(lexicon, text);
    let tokens = &scan.tokens;
    if tokens.is_empty() {
        return 0.0;
    }
    let upper = tokens.iter().filter(|t| t.upper).count();
    let cap_differential = upper > 0 && upper < tokens.len();

    let mut sum = 0.0;
    let mut start = 0;
    for (i, token) in tokens.iter().enumerate() {
        if token.ends_sentence || i + 1 == tokens.len() {
            sum += sentence_valence(&tokens[start..=i], cap_differential);
            start = i + 1;
        }
    }
    if sum == 0.0 {
        return 0.0;
    }
    let emphasis = punctuation_emphasis(scan.exclamations, scan.questions);
    let sum = if sum > 0.0 {
        sum + emphasis
    } else {
        sum - emphasis
    };
    (sum / (sum * sum + ALPHA).sqrt()).clamp(-1.0, 1.0)
}

/// `!` adds 0.292 each, up to 4; `?` adds 0.18 each from 2 up to 3, 0.96 beyond.
fn punctuation_emphasis(exclamations: usize, questions: usize) -> f64 {
    let ep = exclamations.min(4) as f64 * 0.292;
    let qm = match questions {
        0 | 1 => 0.0,
        2 | 3 => questions as f64 * 0.18,
        _ => 0.96,
    };
    ep + qm
}

/// The summed valence of one sentence, with VADER's "but" rule: words before the first "but" count
/// half, words after it one and a half.
fn sentence_valence(words: &[Token], cap_differential: bool) -> f64 {
    let but = words.iter().position(|w| w.is(flag::BUT));
    let mut sum = 0.0;
    for i in 0..words.len() {
        let valence = word_valence(words, i, cap_differential);
        if valence == 0.0 {
            continue;
        }
        let weight = match but {
            Some(b) if i < b => 0.5,
            Some(b) if i > b => 1.5,
            _ => 1.0,
        };
        sum += valence * weight;
    }
    sum
}

/// VADER's `sentiment_valence` for the word at `i`.
fn word_valence(words: &[Token], i: usize, cap_differential: bool) -> f64 {
    let word = words[i];
    if word.is(flag::BOOSTER) || !word.is(flag::HAS_VALENCE) {
        return 0.0;
    }
    let next = words.get(i + 1);
    if word.is(flag::KIND_OR_SORT) && next.is_some_and(|n| n.is(flag::OF)) {
        return 0.0;
    }
    let lexicon_valence = f64::from(word.entry.valence);
    let mut valence = lexicon_valence;
    // "no" before a lexicon word is a negation, not a negative word.
    if word.is(flag::NO) && next.is_some_and(|n| n.is(flag::HAS_VALENCE)) {
        valence = 0.0;
    }
    let reach = (1..=3)
        .take_while(|&n| i >= n && !words[i - n].ends_clause)
        .count();
    let back = |n: usize| (n <= reach).then(|| words[i - n]);
    let is = |n: usize, role: u16| back(n).is_some_and(|w| w.is(role));
    if is(1, flag::NO) || is(2, flag::NO) || (is(3, flag::NO) && is(1, flag::OR_NOR)) {
        valence = lexicon_valence * N_SCALAR;
    }
    if word.upper && cap_differential {
        valence += if valence > 0.0 { C_INCR } else { -C_INCR };
    }
    for distance in 1..=3 {
        let Some(before) = back(distance) else {
            break;
        };
        if before.is(flag::HAS_VALENCE) {
            continue;
        }
        let scalar = booster_scalar(&before, valence, cap_differential);
        valence += match distance {
            1 => scalar,
            2 => scalar * 0.95,
            _ => scalar * 0.9,
        };
        valence = negation_check(valence, &is, distance);
    }
    // "least" negates ("least helpful"), except in "at least" and "very least".
    if is(1, flag::LEAST) && !is(1, flag::HAS_VALENCE) && !is(2, flag::AT_OR_VERY) {
        valence *= N_SCALAR;
    }
    valence
}

/// VADER's `scalar_inc_dec`: the booster's scalar, signed like the valence it modifies, plus
/// the caps increment for an ALL-CAPS booster.
fn booster_scalar(before: &Token, valence: f64, cap_differential: bool) -> f64 {
    if !before.is(flag::BOOSTER) {
        return 0.0;
    }
    let mut scalar = f64::from(before.entry.booster);
    if valence < 0.0 {
        scalar = -scalar;
    }
    if before.upper && cap_differential {
        scalar += if valence > 0.0 { C_INCR } else { -C_INCR };
    }
    scalar
}

/// VADER's `_negation_check` for the word `distance` places back.
fn negation_check(valence: f64, is: &dyn Fn(usize, u16) -> bool, distance: usize) -> f64 {
    match distance {
        1 if is(1, flag::NEGATOR) => valence * N_SCALAR,
        2 if is(2, flag::NEVER) && is(1, flag::SO_OR_THIS) => valence * 1.25,
        2 if is(2, flag::WITHOUT) && is(1, flag::DOUBT) => valence,
        2 if is(2, flag::NEGATOR) => valence * N_SCALAR,
        3 if is(3, flag::NEVER) && (is(2, flag::SO_OR_THIS) || is(1, flag::SO_OR_THIS)) => {
            valence * 1.25
        }
        3 if is(3, flag::WITHOUT) && (is(2, flag::DOUBT) || is(1, flag::DOUBT)) => valence,
        3 if is(3, flag::NEGATOR) => valence * N_SCALAR,
        _ => valence,
    }
}

/// The words of a text, and its `!` and `?` counts.
struct Scan {
    tokens: Vec<Token>,
    /// The current word, lower-cased; reused for every word.
    lower: String,
    exclamations: usize,
    questions: usize,
}

impl Scan {
    fn new(text_len: usize) -> Self {
        Self {
            tokens: Vec::with_capacity(text_len / 5 + 1),
            lower: String::with_capacity(32),
            exclamations: 0,
            questions: 0,
        }
    }

    /// Splits on white space; an emoji is a word of its own; emoji modifiers separate words.
    /// Walks the bytes once: an ASCII byte (nearly all of most feedback) is classified by a table,
    /// which also tells each word its case and where the punctuation around it starts and ends;
    /// only a non-ASCII byte decodes its character.
    fn tokenize(&mut self, lexicon: &Lexicon, text: &str) {
        let bytes = text.as_bytes();
        let mut word = WordScan::NONE;
        let mut at = 0;
        while at < bytes.len() {
            let byte = bytes[at];
            if byte.is_ascii() {
                let class = CLASSES[usize::from(byte)];
                if class & class::SPACE != 0 {
                    if word.started() {
                        self.word(lexicon, &text[word.start..at], &word);
                        word = WordScan::NONE;
                    }
                } else {
                    match byte {
                        b'!' => self.exclamations += 1,
                        b'?' => self.questions += 1,
                        _ => {}
                    }
                    word.push(at, class);
                }
                at += 1;
                continue;
            }
            // `at` is a character boundary: every byte before it was ASCII or skipped whole.
            let Some(c) = text[at..].chars().next() else {
                break;
            };
            let len = c.len_utf8();
            let separator = c.is_whitespace() || emoji::is_ignorable(c);
            let emoji = !separator && emoji::is_emoji(c);
            if separator || emoji {
                if word.started() {
                    self.word(lexicon, &text[word.start..at], &word);
                    word = WordScan::NONE;
                }
                if emoji {
                    self.word(lexicon, &text[at..at + len], &WordScan::NON_ASCII);
                }
            } else {
                word.push(at, class::NON_ASCII);
            }
            at += len;
        }
        if word.started() {
            self.word(lexicon, &text[word.start..], &word);
        }
    }

    fn word(&mut self, lexicon: &Lexicon, raw: &str, scan: &WordScan) {
        self.lower.clear();
        let (has_upper, has_lower, lower, stripped, trailing);
        if scan.classes & class::NON_ASCII == 0 {
            // The common case: what the scan saw, and a lower-cased copy.
            has_upper = scan.classes & class::UPPER != 0;
            has_lower = scan.classes & class::LOWER != 0;
            self.lower.push_str(raw);
            self.lower.make_ascii_lowercase();
            lower = self.lower.as_str();
            let (start, end) = match scan.first_solid {
                usize::MAX => (0, 0),
                first => (first - scan.start, scan.last_solid + 1 - scan.start),
            };
            stripped = &lower[start..end];
            trailing = &lower[end..];
        } else {
            let (mut upper, mut lowercase) = (false, false);
            for c in raw.chars() {
                if c == '\u{2019}' {
                    self.lower.push('\'');
                } else {
                    upper |= c.is_uppercase();
                    lowercase |= c.is_lowercase();
                    self.lower.extend(c.to_lowercase());
                }
            }
            (has_upper, has_lower) = (upper, lowercase);
            lower = self.lower.as_str();
            stripped = lower.trim_matches(is_punctuation);
            trailing = &lower[lower.trim_end_matches(is_punctuation).len()..];
        }
        let ends_sentence = trailing
            .bytes()
            .any(|b| matches!(b, b'.' | b'!' | b'?' | b';'));
        let ends_clause = ends_sentence || trailing.bytes().any(|b| matches!(b, b',' | b':'));

        // VADER keeps punctuation on short words so that emoticons (":)", ":-(") survive; look
        // the word up as written first, then without its punctuation.
        let found = if stripped.len() > 2 || stripped == lower {
            lexicon.get(stripped)
        } else {
            lexicon.get(lower).or_else(|| {
                (!stripped.is_empty())
                    .then(|| lexicon.get(stripped))
                    .flatten()
            })
        };
        let mut entry = found.unwrap_or_default();
        // (A byte search: `str::contains` sets up a substring searcher for every word.)
        if stripped.as_bytes().windows(3).any(|w| w == b"n't") {
            entry.flags |= flag::NEGATOR;
        }
        if !trailing.is_empty() && !stripped.is_empty() {
            // "No, it works": a negation closed by punctuation negates nothing.
            entry.flags &= !(flag::NEGATOR | flag::NO);
        }
        // "kind of good": "of" after "kind"/"sort" dampens like VADER's "kind of".
        if entry.flags & flag::OF != 0
            && self
                .tokens
                .last()
                .is_some_and(|t| t.is(flag::KIND_OR_SORT) && !t.ends_clause)
        {
            entry.flags |= flag::BOOSTER;
            entry.booster = B_DECR as f32;
        }
        self.tokens.push(Token {
            entry,
            upper: has_upper && !has_lower,
            ends_sentence,
            ends_clause,
        });
    }
}

/// What the tokenizer learns of a word as it walks its bytes.
#[derive(Debug, Clone, Copy)]
struct WordScan {
    /// Where the word starts in the text; `usize::MAX` before it does.
    start: usize,
    /// The [`class`]es of its bytes, or-ed.
    classes: u8,
    /// The first and last of its bytes that are not punctuation; `usize::MAX` for none.
    first_solid: usize,
    last_solid: usize,
}

impl WordScan {
    const NONE: WordScan = WordScan {
        start: usize::MAX,
        classes: 0,
        first_solid: usize::MAX,
        last_solid: usize::MAX,
    };
    /// A word to be looked at character by character.
    const NON_ASCII: WordScan = WordScan {
        start: 0,
        classes: class::NON_ASCII,
        first_solid: usize::MAX,
        last_solid: usize::MAX,
    };

    #[inline]
    fn started(&self) -> bool {
        self.start != usize::MAX
    }

    #[inline]
    fn push(&mut self, at: usize, class: u8) {
        if !self.started() {
            self.start = at;
        }
        self.classes |= class;
        if class & class::PUNCTUATION == 0 {
            if self.first_solid == usize::MAX {
                self.first_solid = at;
            }
            self.last_solid = at;
        }
    }
}

/// Classes of ASCII bytes, as bits of [`CLASSES`].
mod class {
    pub(super) const SPACE: u8 = 1;
    pub(super) const UPPER: u8 = 1 << 1;
    pub(super) const LOWER: u8 = 1 << 2;
    pub(super) const PUNCTUATION: u8 = 1 << 3;
    /// Not an ASCII class: the word has a non-ASCII character.
    pub(super) const NON_ASCII: u8 = 1 << 4;
}

/// The class of each ASCII byte. White space is `char::is_whitespace`'s, punctuation
/// `u8::is_ascii_punctuation`'s (Python's `string.punctuation`).
static CLASSES: [u8; 128] = {
    let mut table = [0; 128];
    let mut byte = 0;
    while byte < 128 {
        let b = byte as u8;
        table[byte] = if matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
            class::SPACE
        } else if b.is_ascii_uppercase() {
            class::UPPER
        } else if b.is_ascii_lowercase() {
            class::LOWER
        } else if b.is_ascii_punctuation() {
            class::PUNCTUATION
        } else {
            0
        };
        byte += 1;
    }
    table
};

/// ASCII punctuation (Python's `string.punctuation`) and the typographic marks feedback uses.
fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(
            c,
            '¡' | '¿' | '«' | '»' | '…' | '“' | '”' | '‘' | '„' | '–' | '—'
        )
}
