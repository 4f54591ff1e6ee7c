//! The analyser's rules on the cases the issue names: negation, intensifiers, "but", emphasis,
//! emoji, mixed-language text, and the edges (empty text, very long text).

use tidings_sentiment::{Analyzer, Label, Sentiment};

fn analyze(text: &str) -> Sentiment {
    Analyzer::shared().analyze(text)
}

fn score(text: &str) -> f64 {
    analyze(text).score
}

fn label(text: &str) -> Label {
    analyze(text).label
}

#[test]
fn negation_flips_and_damps() {
    assert_eq!(label("good"), Label::Positive);
    assert_eq!(label("not good"), Label::Negative);
    assert_eq!(label("The coffee wasn't good"), Label::Negative);
    assert_eq!(
        label("The coffee wasn’t good"),
        Label::Negative,
        "typographic apostrophe"
    );
    // "not bad" is mildly positive: positive, but weaker than "good".
    let not_bad = score("not bad");
    assert_eq!(label("not bad"), Label::Positive);
    assert!(not_bad < score("good"), "{not_bad}");
    // Negation reaches three words back…
    assert_eq!(label("The staff were not very friendly"), Label::Negative);
    // …but not across a sentence or a clause.
    assert_eq!(label("Not cheap. Great staff"), Label::Positive);
    assert_eq!(label("No, the app works great"), Label::Positive);
    // "no" before a sentiment word negates it instead of counting as negative.
    assert_eq!(label("There is no problem with the sync"), Label::Positive);
}

#[test]
fn intensifiers_strengthen_and_dampeners_weaken() {
    assert!(score("very bad") < score("bad"));
    assert!(score("extremely good") > score("good"));
    assert!(score("kind of good") < score("good"));
    assert!(score("slightly annoying") > score("annoying"));
    assert!(score("kind of good") > 0.0);
}

#[test]
fn but_weighs_the_second_half_more() {
    assert_eq!(
        label("The coffee was good, but the service was terrible"),
        Label::Negative
    );
    assert_eq!(
        label("The service was terrible, but the coffee was excellent"),
        Label::Positive
    );
    // The rule stays within its sentence.
    let with_but = score("Great coffee. The staff was nice but slow.");
    assert_eq!(Label::from_score(with_but), Label::Positive);
}

#[test]
fn caps_and_exclamation_marks_add_emphasis() {
    assert!(score("The coffee is GREAT") > score("The coffee is great"));
    assert!(score("The coffee is great!!!") > score("The coffee is great"));
    assert!(score("The coffee is awful!!!") < score("The coffee is awful"));
    // Up to four count.
    assert_eq!(score("great!!!!"), score("great!!!!!!!!"));
    // All caps everywhere is not emphasis.
    assert_eq!(score("THE COFFEE IS GREAT"), score("the coffee is great"));
}

#[test]
fn emoji_carry_sentiment() {
    assert!(score("great 👍") > score("great"));
    assert!(score("great👍") > score("great"), "glued to the word");
    assert_eq!(label("😡"), Label::Negative);
    assert_eq!(label("👎"), Label::Negative);
    assert_eq!(label("Love it ❤️"), Label::Positive);
    assert_eq!(label("👍🏽"), Label::Positive, "skin tone modifier");
    assert_eq!(label("Delivered on time 🙂"), Label::Positive);
    assert_eq!(label("Delivered late 😭"), Label::Negative);
    // Emoji VADER knows only by description still count.
    assert_eq!(label("🤬"), Label::Negative);
    // Emoticons from VADER's lexicon.
    assert_eq!(label("see you tomorrow :)"), Label::Positive);
    assert_eq!(label("see you tomorrow :("), Label::Negative);
}

#[test]
fn mixed_language_feedback_is_not_neutral() {
    assert_eq!(label("Livraison en retard"), Label::Negative);
    assert_eq!(label("très bien"), Label::Positive);
    assert!(score("très bien") > score("bien"));
    assert_eq!(label("pas bon"), Label::Negative);
    assert_eq!(label("Pas mal du tout"), Label::Positive);
    assert_eq!(label("sehr gut"), Label::Positive);
    assert_eq!(label("nicht gut"), Label::Negative);
    assert!(score("sehr schlecht") < score("schlecht"));
    assert_eq!(label("muy malo"), Label::Negative);
    assert!(score("muy malo") < score("malo"));
    assert_eq!(label("no es bueno"), Label::Negative);
    assert_eq!(
        label("Great coffee, aber der Service war langsam"),
        Label::Negative
    );
    assert_eq!(label("The croissant was très bon 😋"), Label::Positive);
    assert_eq!(label("TRÈS BIEN"), Label::Positive, "non-ASCII upper case");
}

#[test]
fn empty_and_sentimentless_text_is_neutral_zero() {
    for text in [
        "",
        " ",
        "\n\t  ",
        "Order #4521 picked up at 9:15.",
        "!!!",
        "???",
    ] {
        assert_eq!(analyze(text), Sentiment::NEUTRAL, "{text:?}");
    }
}

#[test]
fn very_long_text_stays_within_range() {
    let praise = "Absolutely AMAZING coffee, the best!!! 😍👍 ".repeat(10_000);
    let positive = analyze(&praise);
    assert_eq!(positive.label, Label::Positive);
    assert!(
        positive.score <= 1.0 && positive.score > 0.99,
        "{}",
        positive.score
    );

    let complaints = "Terrible, rude and SLOW service!!! 😡 ".repeat(10_000);
    let negative = analyze(&complaints);
    assert_eq!(negative.label, Label::Negative);
    assert!(
        negative.score >= -1.0 && negative.score < -0.99,
        "{}",
        negative.score
    );
}

#[test]
fn labels_spell_as_records_store_them() {
    assert_eq!(Label::Positive.as_str(), "positive");
    assert_eq!(Label::Neutral.as_str(), "neutral");
    assert_eq!(Label::Negative.as_str(), "negative");
    assert_eq!(Label::parse(" Negative "), Some(Label::Negative));
    assert_eq!(Label::parse("mixed"), None);
    assert_eq!(Label::from_score(0.05), Label::Positive);
    assert_eq!(Label::from_score(0.049), Label::Neutral);
    assert_eq!(Label::from_score(-0.05), Label::Negative);
    assert_eq!(Sentiment::from_score(f64::NAN), Sentiment::NEUTRAL);
    assert_eq!(Sentiment::from_score(3.0).score, 1.0);
}

#[test]
fn analyzer_is_shareable_across_threads() {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<Analyzer>();
    let handle = std::thread::spawn(|| Analyzer::shared().analyze("great").label);
    assert_eq!(handle.join().unwrap(), Label::Positive);
}
