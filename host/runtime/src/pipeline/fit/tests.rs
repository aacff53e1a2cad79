use super::*;

fn fit(image_input: bool, truncation: Truncation) -> ModelFit {
    ModelFit {
        slug: "m".to_owned(),
        image_input,
        truncation,
    }
}

#[test]
fn tools_are_offered_by_requirement() {
    let vision = fit(true, Truncation::Bytes(10_000));
    let text = fit(false, Truncation::Bytes(10_000));
    let requires = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
    let cases = [
        (&vision, requires(&[]), true),
        (&text, requires(&[]), true),
        (&vision, requires(&["image_input"]), true),
        (&text, requires(&["image_input"]), false),
        (&vision, requires(&["telepathy"]), false),
        (&vision, requires(&["image_input", "telepathy"]), false),
    ];
    for (model, requires, expected) in cases {
        assert_eq!(model.offers(&requires), expected, "{model:?} {requires:?}");
    }
}

#[test]
fn text_is_truncated_to_the_model_limit() {
    let bytes = |limit| fit(false, Truncation::Bytes(limit));
    let tokens = |limit| fit(false, Truncation::Tokens(limit));
    let alphabet = "abcdefghijklmnopqrstuvwxyz";
    let cases = [
        (bytes(26), alphabet, alphabet.to_owned()),
        (
            bytes(10),
            alphabet,
            "abcde…16 chars truncated…vwxyz".to_owned(),
        ),
        (bytes(5), alphabet, "ab…21 chars truncated…xyz".to_owned()),
        (bytes(0), "abc", "…3 chars truncated…".to_owned()),
        // A cut never splits a character: it keeps less instead.
        (bytes(4), "ééééé", "é…3 chars truncated…é".to_owned()),
        (bytes(5), "aéééé", "a…3 chars truncated…é".to_owned()),
        (
            tokens(2),
            alphabet,
            "abcd…5 tokens truncated…wxyz".to_owned(),
        ),
        (tokens(7), alphabet, alphabet.to_owned()),
    ];
    for (model, text, expected) in cases {
        assert_eq!(
            model.truncate(text),
            expected,
            "{:?} {text}",
            model.truncation
        );
    }
}
