//! Words VADER's lexicon lacks: a small French, Spanish and German lexicon, so that feedback in
//! those languages (or mixed with English: "Livraison en retard", "muy malo", "sehr gut") is not
//! all neutral, and English customer-feedback words ("slow", "buggy", "overpriced") that VADER,
//! built for social media, does not score.
//!
//! The words and valences are ours (tidings, MIT OR Apache-2.0), chosen from common customer
//! feedback vocabulary and set against VADER's English words of the same strength ("bien" like
//! "good", "nul" like "awful"). A word VADER already knows keeps VADER's valence ("excellent",
//! "horrible", "super", "terrible", "no").
//!
//! Limits: a few hundred words, no stemming or inflection beyond the listed forms (common
//! feminine/plural forms are listed), accents as usually typed plus a few unaccented spellings,
//! French "ne … pas" counted as one negation ("pas"; "ne"/"n'" are ignored so the pair does not
//! cancel out), German separable verbs and compounds not split, and the VADER rules (negation
//! window, boosters before the word) applied unchanged, which fits these languages' common
//! short phrases ("pas bon", "no funciona", "nicht gut") but not every word order (German
//! "gut ist es nicht" puts the negation after the word and stays positive).

/// What a word does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Role {
    /// A sentiment-bearing word, −4..4 like VADER's lexicon.
    Valence(f32),
    /// Flips and damps the words after it ("pas", "nicht", "nunca").
    Negator,
    /// Strengthens the word after it ("très", "muy", "sehr").
    Booster,
    /// Weakens the word after it ("peu", "poco", "etwas").
    Dampener,
    /// Contrast: the words after it weigh more than the words before it ("mais", "pero", "aber").
    But,
    /// A VADER word that names a thing in customer feedback rather than a feeling: its valence
    /// is dropped ("support" as in the support team, "please" in a request, "credit" as in a
    /// credit card).
    Neutral,
}

#[rustfmt::skip]
const WORDS: &[(&str, f32)] = &[
    // English customer feedback
    ("slow", -1.5), ("slower", -1.5), ("slowly", -1.2), ("late", -1.2), ("crashes", -1.7),
    ("crashed", -1.7), ("crashing", -1.7), ("buggy", -2.0), ("laggy", -1.6), ("overpriced", -1.9),
    ("stale", -1.6), ("refund", -0.8), ("unusable", -2.5), ("clunky", -1.6), ("intuitive", 1.8),
    ("smooth", 1.5), ("smoothly", 1.5), ("reliable", 1.8), ("unreliable", -1.9), ("tasty", 2.3),
    ("bland", -1.2), ("cozy", 2.0), ("cosy", 2.0), ("crowded", -0.8), ("glitch", -1.5),
    ("glitches", -1.5), ("glitchy", -1.8), ("bug", -1.5), ("bugs", -1.5), ("timeout", -1.2),
    ("unresponsive", -1.8), ("outage", -2.0), ("burnt", -1.5), ("lukewarm", -1.0), ("watery", -1.2),
    ("seamless", 2.0), ("fast", 1.3), ("quick", 1.0), ("expensive", -0.8), ("waited", -0.8),
    ("cramped", -1.2), ("overcharged", -2.0), ("unhelpful", -1.8), ("knowledgeable", 1.8),
    ("attentive", 1.8), ("spotless", 2.0), ("filthy", -2.5), ("mediocre", -1.3), ("meh", -0.8),
    // French
    ("bien", 1.9), ("bon", 1.9), ("bonne", 1.9), ("bons", 1.9), ("bonnes", 1.9), ("génial", 3.0),
    ("géniale", 3.0), ("genial", 3.0), ("parfait", 3.0), ("parfaite", 3.0), ("formidable", 3.0),
    ("magnifique", 3.0), ("merveilleux", 3.1), ("excellente", 3.2), ("délicieux", 2.9),
    ("délicieuse", 2.9), ("delicieux", 2.9), ("agréable", 2.0), ("agreable", 2.0), ("sympa", 2.0),
    ("sympathique", 2.0), ("gentil", 1.9), ("gentille", 1.9), ("aimable", 2.0), ("rapide", 1.3),
    ("rapides", 1.3), ("efficace", 1.8), ("pratique", 1.3), ("merci", 1.5), ("bravo", 2.5),
    ("top", 2.0), ("ravi", 2.6), ("ravie", 2.6), ("content", 2.0), ("contente", 2.0),
    ("satisfait", 2.0), ("satisfaite", 2.0), ("recommande", 1.8), ("adore", 3.0), ("aime", 2.2),
    ("aimé", 2.2), ("beau", 2.0), ("belle", 2.0), ("propre", 1.2), ("chaleureux", 2.2),
    ("chaleureuse", 2.2), ("mieux", 1.5), ("mauvais", -2.5), ("mauvaise", -2.5), ("nul", -2.8),
    ("nulle", -2.8), ("horrible", -2.5), ("affreux", -2.8), ("décevant", -2.2), ("décevante", -2.2),
    ("decevant", -2.2), ("déçu", -2.3), ("déçue", -2.3), ("decu", -2.3), ("déception", -2.3),
    ("lent", -1.5), ("lente", -1.5), ("lents", -1.5), ("retard", -1.8), ("retards", -1.8),
    ("cassé", -1.8), ("cassée", -1.8), ("sale", -1.9), ("froid", -0.8), ("froide", -0.8),
    ("cher", -0.8), ("chère", -0.8), ("problème", -1.7), ("problèmes", -1.7), ("probleme", -1.7),
    ("bug", -1.5), ("bugs", -1.5), ("plante", -1.5), ("erreur", -1.5), ("impoli", -2.2),
    ("impolie", -2.2), ("désagréable", -2.2), ("inacceptable", -2.6), ("arnaque", -2.9),
    ("pire", -3.0), ("attente", -0.8), ("remboursement", -0.5), ("dommage", -1.5),
    ("catastrophe", -3.1), ("catastrophique", -3.1), ("triste", -2.1), ("énervé", -2.2),
    ("fâché", -2.3), ("compliqué", -1.2), ("difficile", -1.3),
    // Spanish
    ("bueno", 1.9), ("buena", 1.9), ("buenos", 1.9), ("buenas", 1.9), ("bien", 1.9),
    ("excelente", 3.2), ("genial", 3.0), ("perfecto", 3.0), ("perfecta", 3.0), ("maravilloso", 3.1),
    ("maravillosa", 3.1), ("fantástico", 3.0), ("fantastico", 3.0), ("delicioso", 2.9),
    ("deliciosa", 2.9), ("rico", 1.8), ("rica", 1.8), ("rápido", 1.3), ("rapido", 1.3),
    ("rápida", 1.3), ("amable", 2.0), ("amables", 2.0), ("agradable", 2.0), ("gracias", 1.5),
    ("encanta", 3.0), ("encantó", 3.0), ("encanto", 2.5), ("feliz", 2.6), ("contento", 2.0),
    ("contenta", 2.0), ("satisfecho", 2.0), ("satisfecha", 2.0), ("recomiendo", 1.8),
    ("limpio", 1.2), ("limpia", 1.2), ("mejor", 1.8), ("útil", 1.9), ("malo", -2.5), ("mala", -2.5),
    ("malos", -2.5), ("malas", -2.5), ("mal", -2.2), ("pésimo", -3.1), ("pesimo", -3.1),
    ("pésima", -3.1), ("horrible", -2.5), ("terrible", -2.1), ("lento", -1.5), ("lenta", -1.5),
    ("retraso", -1.8), ("tarde", -0.8), ("roto", -1.8), ("rota", -1.8), ("sucio", -1.9),
    ("sucia", -1.9), ("frío", -0.8), ("frio", -0.8), ("caro", -0.8), ("problema", -1.7),
    ("problemas", -1.7), ("error", -1.5), ("errores", -1.5), ("grosero", -2.3), ("grosera", -2.3),
    ("decepcionado", -2.3), ("decepcionada", -2.3), ("decepción", -2.3), ("decepcionante", -2.2),
    ("inaceptable", -2.6), ("estafa", -2.9), ("peor", -3.0), ("triste", -2.1), ("enojado", -2.3),
    ("molesto", -1.9), ("difícil", -1.3), ("complicado", -1.2),
    // German
    ("gut", 1.9), ("gute", 1.9), ("guter", 1.9), ("gutes", 1.9), ("guten", 1.9), ("toll", 2.8),
    ("tolle", 2.8), ("super", 2.9), ("prima", 2.5), ("klasse", 2.5), ("hervorragend", 3.2),
    ("ausgezeichnet", 3.2), ("perfekt", 3.0), ("wunderbar", 3.1), ("großartig", 3.1),
    ("grossartig", 3.1), ("lecker", 2.6), ("freundlich", 2.0), ("freundliche", 2.0),
    ("freundliches", 2.0), ("freundlicher", 2.0), ("leckere", 2.6), ("leckerer", 2.6),
    ("leckeres", 2.6), ("nett", 1.9), ("schnell", 1.3), ("schnelle", 1.3), ("danke", 1.5),
    ("zufrieden", 2.0), ("empfehlenswert", 2.0), ("empfehle", 1.8), ("liebe", 2.6), ("gerne", 1.5),
    ("sauber", 1.2), ("besser", 1.8), ("beste", 3.0), ("hilfreich", 1.9), ("schlecht", -2.5),
    ("schlechte", -2.5), ("schlechter", -2.5), ("schlechtes", -2.5), ("schrecklich", -2.8),
    ("furchtbar", -2.8), ("mies", -2.3), ("langsam", -1.5), ("langsame", -1.5), ("verspätet", -1.8),
    ("verspätung", -1.8), ("verspaetet", -1.8), ("kaputt", -2.0), ("schmutzig", -1.9),
    ("dreckig", -2.1), ("kalt", -0.8), ("teuer", -0.8), ("problem", -1.7), ("probleme", -1.7),
    ("fehler", -1.5), ("unfreundlich", -2.2), ("enttäuscht", -2.3), ("enttäuschend", -2.2),
    ("enttäuschung", -2.3), ("unverschämt", -2.6), ("inakzeptabel", -2.6), ("betrug", -2.9),
    ("katastrophe", -3.1), ("ärgerlich", -2.0), ("schade", -1.5), ("traurig", -2.1),
    ("wütend", -2.6), ("kompliziert", -1.2), ("umständlich", -1.3), ("schwierig", -1.3),
    ("abgestürzt", -1.8),
];

#[rustfmt::skip]
const NEGATORS: &[&str] = &[
    // French ("ne"/"n'" deliberately absent: "ne … pas" is one negation).
    "pas", "jamais", "rien", "aucun", "aucune", "sans",
    // Spanish ("no" is VADER's already).
    "nunca", "nada", "ni", "tampoco", "jamás", "sin", "ningún", "ninguna", "ninguno",
    // German
    "nicht", "kein", "keine", "keinen", "keiner", "keinem", "nie", "niemals", "nichts", "ohne",
];

#[rustfmt::skip]
const BOOSTERS: &[&str] = &[
    "très", "tres", "vraiment", "tellement", "extrêmement", "totalement", "complètement", "muy",
    "realmente", "súper", "extremadamente", "demasiado", "bastante", "totalmente", "sehr",
    "wirklich", "echt", "total", "extrem", "äußerst", "besonders", "richtig", "absolut", "voll",
];

#[rustfmt::skip]
const DAMPENERS: &[&str] = &[
    "peu", "assez", "plutôt", "plutot", "poco", "algo", "etwas", "ziemlich", "bisschen", "eher",
];

const NEUTRAL_IN_FEEDBACK: &[&str] = &["support", "please", "credit"];

const BUTS: &[&str] = &["mais", "pero", "aber", "sino", "doch"];

/// Hands every word of this lexicon, with its role, to `add`. A word may come more than once
/// ("bien" is French and Spanish).
pub(crate) fn add_to(add: &mut dyn FnMut(&str, Role)) {
    for &(word, valence) in WORDS {
        add(word, Role::Valence(valence));
    }
    let roles: [(&[&str], Role); 5] = [
        (NEUTRAL_IN_FEEDBACK, Role::Neutral),
        (NEGATORS, Role::Negator),
        (BOOSTERS, Role::Booster),
        (DAMPENERS, Role::Dampener),
        (BUTS, Role::But),
    ];
    for (words, role) in roles {
        for &word in words {
            add(word, role);
        }
    }
}
