//! Emoji: which characters are emoji (each one is a word of its own, even when glued to text), and
//! hand-set valences for the ~100 most common in feedback, on the lexicon's −4..4 scale.
//!
//! VADER scores an emoji through its description, which misses many that customers use ("👍" is
//! "thumbs up", neither word in the lexicon; "🙄" is "face with rolling eyes"). These values are
//! ours, set against the lexicon's words of similar strength ("good" 1.9, "great" 3.1, "bad" −2.5,
//! "angry" −2.3).

/// Emoji and pictographs: the blocks where feedback's emoji live.
#[inline]
pub(crate) fn is_emoji(c: char) -> bool {
    matches!(c, '\u{231A}'..='\u{231B}' | '\u{23E9}'..='\u{23FA}' | '\u{2600}'..='\u{27BF}' | '\u{2B50}' | '\u{2B55}' | '\u{1F000}'..='\u{1FAFF}')
        && !is_ignorable(c)
}

/// Characters that only modify the emoji before them: variation selectors, the zero-width joiner
/// and skin tones. They separate words and carry nothing.
#[inline]
pub(crate) fn is_ignorable(c: char) -> bool {
    matches!(
        c,
        '\u{FE0E}' | '\u{FE0F}' | '\u{200D}' | '\u{1F3FB}'..='\u{1F3FF}'
    )
}

#[rustfmt::skip]
const VALENCES: &[(char, f32)] = &[
    // Positive faces.
    ('😀', 2.2), ('😃', 2.3), ('😄', 2.4), ('😁', 2.3), ('😆', 2.2), ('😅', 1.0), ('🤣', 2.2), ('😂', 1.8),
    ('🙂', 1.4), ('😊', 2.3), ('😇', 2.0), ('🥰', 3.0), ('😍', 3.0), ('🤩', 3.0), ('😘', 2.3), ('😋', 2.2),
    ('😎', 1.8), ('🤗', 2.0), ('😌', 1.5), ('🥳', 2.8), ('😉', 1.2), ('☺', 2.0), ('🤤', 1.5), ('😺', 1.8),
    ('😸', 2.0), ('😻', 2.8),
    // Negative faces.
    ('🙁', -1.8), ('☹', -2.0), ('😞', -2.0), ('😔', -1.8), ('😟', -1.8), ('😕', -1.3), ('😣', -1.9),
    ('😖', -2.2), ('😫', -2.3), ('😩', -2.3), ('😢', -2.3), ('😭', -2.6), ('😤', -2.2), ('😠', -2.6),
    ('😡', -3.0), ('🤬', -3.3), ('😒', -1.9), ('🙄', -1.8), ('😬', -1.0), ('😰', -2.0), ('😱', -2.0),
    ('😨', -2.0), ('😓', -1.5), ('🤢', -2.8), ('🤮', -3.1), ('😷', -1.2), ('🤒', -1.5), ('😴', -1.0),
    ('🥱', -1.3), ('😪', -1.2), ('🥺', -1.0), ('😿', -2.0), ('💀', -1.0), ('🤦', -2.0), ('😑', -1.0),
    ('😐', -0.5), ('🤨', -0.8), ('😶', -0.3), ('🤔', -0.3), ('😳', -0.6), ('🥴', -1.2), ('😵', -1.5),
    ('🤯', -1.0), ('🤥', -1.8), ('😈', -0.5), ('👿', -2.2),
    // Hands and gestures.
    ('👍', 2.0), ('👎', -2.2), ('👏', 2.2), ('🙌', 2.4), ('🙏', 1.5), ('💪', 1.8), ('👌', 1.9), ('✌', 1.2),
    ('🤝', 1.6), ('🤞', 0.8), ('🖕', -3.0), ('✊', 0.5), ('👋', 0.6),
    // Hearts and symbols.
    ('❤', 2.9), ('🧡', 2.6), ('💛', 2.6), ('💚', 2.6), ('💙', 2.6), ('💜', 2.6), ('🖤', 1.5), ('🤍', 2.2),
    ('💕', 2.8), ('💖', 2.8), ('💗', 2.7), ('💓', 2.6), ('💞', 2.6), ('💘', 2.6), ('💯', 2.3), ('💔', -2.8),
    ('✨', 1.5), ('🌟', 2.0), ('⭐', 1.8), ('🔥', 1.8), ('🎉', 2.4), ('🎊', 2.2), ('🏆', 2.3), ('🥇', 2.2),
    ('✅', 1.5), ('✔', 1.2), ('❌', -1.8), ('✖', -1.2), ('⚠', -1.3), ('🚫', -1.8), ('⛔', -1.8),
    ('💩', -2.5), ('🐌', -1.5), ('🐢', -1.2), ('🐛', -1.5), ('💸', -1.2), ('⏳', -0.6), ('⌛', -0.6),
    ('🆗', 1.0), ('🆒', 1.5), ('🚀', 1.8), ('💥', -0.8), ('🤷', -0.5), ('🥲', 0.3),
];

/// The hand-set valences.
pub(crate) fn valences() -> impl Iterator<Item = (char, f32)> {
    VALENCES.iter().copied()
}
