//! The simulated model behind `POST /v1/responses`: a small, deterministic rule set that reads
//! the learner's numbered turns (`[1] …`) in the input and answers in the shape of Speaking
//! Coach's feedback schema: corrections of common learner errors ("I am agree", "she don't",
//! "more better", ...), rewrites, two strengths, one focus and a CEFR estimate. It is no model:
//! it recognises only the patterns below, and quotes only what the learner said.

use serde_json::{Value, json};

/// A learner error the rules recognise: the words as said (lowercase), what they become, the
/// kind and a one-line explanation.
struct Rule {
    said: &'static [&'static str],
    becomes: &'static str,
    kind: &'static str,
    why: &'static str,
}

const RULES: &[Rule] = &[
    Rule {
        said: &["i", "am", "agree"],
        becomes: "I agree",
        kind: "grammar",
        why: "'Agree' is a verb, so it needs no 'am' before it.",
    },
    Rule {
        said: &["she", "don't"],
        becomes: "she doesn't",
        kind: "agreement",
        why: "With he, she or it, use 'doesn't'.",
    },
    Rule {
        said: &["he", "don't"],
        becomes: "he doesn't",
        kind: "agreement",
        why: "With he, she or it, use 'doesn't'.",
    },
    Rule {
        said: &["it", "don't"],
        becomes: "it doesn't",
        kind: "agreement",
        why: "With he, she or it, use 'doesn't'.",
    },
    Rule {
        said: &["more", "better"],
        becomes: "better",
        kind: "grammar",
        why: "'Better' is already the comparative of 'good'.",
    },
    Rule {
        said: &["more", "easier"],
        becomes: "easier",
        kind: "grammar",
        why: "'Easier' is already a comparative.",
    },
    Rule {
        said: &["depend", "of"],
        becomes: "depend on",
        kind: "preposition",
        why: "We say 'depend on' something.",
    },
    Rule {
        said: &["depends", "of"],
        becomes: "depends on",
        kind: "preposition",
        why: "We say 'depends on' something.",
    },
    Rule {
        said: &["explain", "me"],
        becomes: "explain to me",
        kind: "preposition",
        why: "You explain something to someone.",
    },
    Rule {
        said: &["discuss", "about"],
        becomes: "discuss",
        kind: "preposition",
        why: "'Discuss' takes no 'about'.",
    },
    Rule {
        said: &["didn't", "went"],
        becomes: "didn't go",
        kind: "tense",
        why: "After 'didn't', use the base form of the verb.",
    },
    Rule {
        said: &["informations"],
        becomes: "information",
        kind: "vocabulary",
        why: "'Information' has no plural.",
    },
    Rule {
        said: &["advices"],
        becomes: "advice",
        kind: "vocabulary",
        why: "'Advice' has no plural.",
    },
];

const FILLERS: &[&str] = &["um", "umm", "uh", "uhh", "er", "erm"];

/// One word of a turn: its bytes in the turn, and the lowercase word.
struct Word {
    start: usize,
    end: usize,
    lower: String,
}

fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        let part = c.is_alphanumeric() || c == '\'' || c == '’';
        match (start, part) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                let word = text[s..i].trim_matches(['\'', '’']);
                if !word.is_empty() {
                    let offset = text[s..i].find(word).unwrap_or(0);
                    out.push(Word {
                        start: s + offset,
                        end: s + offset + word.len(),
                        lower: word.to_lowercase().replace('’', "'"),
                    });
                }
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// The learner's numbered turns in the conversation text: `[n] what they said`.
pub fn learner_turns(input: &str) -> Vec<(u64, String)> {
    input
        .lines()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix('[')?;
            let (number, said) = rest.split_once(']')?;
            Some((number.trim().parse().ok()?, said.trim().to_owned()))
        })
        .collect()
}

/// The text of a request's `input`: a string, or the text parts of its items.
pub fn input_text(input: &Value) -> String {
    match input {
        Value::String(text) => text.clone(),
        Value::Array(items) => items
            .iter()
            .flat_map(|item| match &item["content"] {
                Value::String(text) => vec![text.clone()],
                Value::Array(parts) => parts
                    .iter()
                    .filter_map(|p| p["text"].as_str().map(str::to_owned))
                    .collect(),
                _ => Vec::new(),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// The sentence of `text` around bytes `start..end`.
fn sentence_around(text: &str, start: usize, end: usize) -> (usize, usize) {
    let from = text[..start].rfind(['.', '!', '?']).map_or(0, |i| i + 1);
    let to = text[end..]
        .find(['.', '!', '?'])
        .map_or(text.len(), |i| end + i + 1);
    let leading = text[from..].len() - text[from..].trim_start().len();
    (from + leading, to)
}

struct Found {
    turn: u64,
    original: String,
    corrected: String,
    kind: &'static str,
    why: &'static str,
}

fn corrections(turns: &[(u64, String)]) -> Vec<Found> {
    let mut found = Vec::new();
    for (turn, text) in turns {
        let words = words(text);
        for rule in RULES {
            let n = rule.said.len();
            for at in 0..words.len().saturating_sub(n - 1) {
                let window = &words[at..at + n];
                if !window.iter().zip(rule.said).all(|(w, s)| w.lower == *s) {
                    continue;
                }
                let (from, to) = sentence_around(text, window[0].start, window[n - 1].end);
                let original = text[from..to].trim().to_owned();
                let mut corrected = text[from..window[0].start].to_owned();
                corrected.push_str(&match_case(&text[window[0].start..], rule.becomes));
                corrected.push_str(&text[window[n - 1].end..to]);
                found.push(Found {
                    turn: *turn,
                    original,
                    corrected: corrected.trim().to_owned(),
                    kind: rule.kind,
                    why: rule.why,
                });
            }
        }
    }
    found
}

/// `becomes` with its first letter as capitalised as `said` starts.
fn match_case(said: &str, becomes: &str) -> String {
    let upper = said.chars().next().is_some_and(char::is_uppercase);
    let mut chars = becomes.chars();
    match chars.next() {
        Some(first) if upper => first.to_uppercase().chain(chars).collect(),
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `text` with every error the rules know corrected and its vocal fillers left out.
fn fix_all(text: &str) -> String {
    let mut text = text.trim().to_owned();
    // Each pass fixes one error; a turn holds a handful at most.
    for _ in 0..20 {
        let words = words(&text);
        let found = RULES.iter().find_map(|rule| {
            let n = rule.said.len();
            (0..words.len().saturating_sub(n - 1)).find_map(|at| {
                let window = &words[at..at + n];
                window
                    .iter()
                    .zip(rule.said)
                    .all(|(w, s)| w.lower == *s)
                    .then(|| (window[0].start, window[n - 1].end, rule.becomes))
            })
        });
        let Some((start, end, becomes)) = found else {
            break;
        };
        let replaced = match_case(&text[start..], becomes);
        text.replace_range(start..end, &replaced);
    }
    let mut kept = String::new();
    let mut skip_comma = false;
    let mut last = 0;
    for word in words(&text) {
        if FILLERS.contains(&word.lower.as_str()) {
            kept.push_str(&text[last..word.start]);
            last = word.end;
            skip_comma = true;
            continue;
        }
        let between = &text[last..word.start];
        kept.push_str(if skip_comma {
            between.trim_start_matches(',')
        } else {
            between
        });
        kept.push_str(&text[word.start..word.end]);
        last = word.end;
        skip_comma = false;
    }
    let rest = &text[last..];
    kept.push_str(if skip_comma {
        rest.trim_start_matches(',')
    } else {
        rest
    });
    let tidy = kept.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut chars = tidy.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => tidy,
    }
}

/// The review of a conversation, in the feedback schema's shape.
pub fn review(input: &str) -> Value {
    let turns = learner_turns(input);
    let found = corrections(&turns);
    let all_words: Vec<Word> = turns.iter().flat_map(|(_, t)| words(t)).collect();
    let word_count = all_words.len();
    let fillers = all_words
        .iter()
        .filter(|w| FILLERS.contains(&w.lower.as_str()))
        .count();
    let per_turn = if turns.is_empty() {
        0
    } else {
        word_count / turns.len()
    };

    let corrections: Vec<Value> = found
        .iter()
        .take(5)
        .map(|f| {
            json!({"turn": f.turn, "original": f.original, "corrected": f.corrected,
                   "kind": f.kind, "explanation": f.why})
        })
        .collect();

    // Rewrites: whole turns said again without their errors and fillers, longest first; else
    // the longest turn, with a reason added.
    let mut by_length: Vec<&(u64, String)> = turns.iter().collect();
    by_length.sort_by_key(|(_, text)| std::cmp::Reverse(text.len()));
    let mut rewrites: Vec<Value> = by_length
        .iter()
        .filter_map(|(turn, text)| {
            let better = fix_all(text);
            (better != text.trim()).then(|| {
                json!({"turn": turn, "original": text.trim(), "better": better,
                       "why": "All of it, said correctly and without fillers."})
            })
        })
        .take(2)
        .collect();
    if rewrites.is_empty()
        && let Some((turn, text)) = by_length.first()
    {
        let said = text.trim().trim_end_matches(['.', '!', '?']);
        rewrites.push(json!({
            "turn": turn, "original": text.trim(),
            "better": format!("{said}, because it matters to me."),
            "why": "Giving a reason makes your answer fuller."
        }));
    }

    let strengths = vec![
        if per_turn >= 8 {
            "You gave full answers rather than single words.".to_owned()
        } else {
            "You answered every question the coach asked.".to_owned()
        },
        if found.is_empty() {
            "Your grammar was accurate in what you said.".to_owned()
        } else {
            "You kept the conversation going even when it was hard.".to_owned()
        },
    ];
    let focus = match found.first() {
        Some(f) => format!("Practise this: {}", f.why),
        None if fillers > 0 => {
            "Try pausing silently instead of saying 'um' while you think.".to_owned()
        }
        None => "Try longer answers: add a reason with 'because'.".to_owned(),
    };
    let (level, reason) = if word_count < 75 {
        (
            Value::Null,
            "There is not enough speech to estimate a level yet.".to_owned(),
        )
    } else if per_turn >= 15 && found.len() <= 1 {
        (json!("B2"), "Long, mostly accurate answers.".to_owned())
    } else if per_turn >= 8 {
        (
            json!("B1"),
            "Connected answers with some errors.".to_owned(),
        )
    } else {
        (
            json!("A2"),
            "Short answers with simple sentences.".to_owned(),
        )
    };
    json!({
        "corrections": corrections,
        "rewrites": rewrites,
        "strengths": strengths,
        "focus": focus,
        "cefr": {"level": level, "reason": reason}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_errors_are_corrected_quoting_the_learners_sentence() {
        let input = "Topic: x\n\nConversation:\nCoach: Hi!\n[1] Well, I am agree with you. \
                     She don't like coffee.\nCoach: Why?\n[2] Tea is more better.\n";
        let review = review(input);
        let corrections = review["corrections"].as_array().unwrap();
        assert_eq!(corrections.len(), 3);
        assert_eq!(corrections[0]["turn"], 1);
        assert_eq!(corrections[0]["original"], "Well, I am agree with you.");
        assert_eq!(corrections[0]["corrected"], "Well, I agree with you.");
        assert_eq!(corrections[1]["original"], "She don't like coffee.");
        assert_eq!(corrections[1]["corrected"], "She doesn't like coffee.");
        assert_eq!(corrections[2]["turn"], 2);
        assert_eq!(corrections[2]["corrected"], "Tea is better.");
        assert_eq!(review["rewrites"].as_array().unwrap().len(), 2);
        assert_eq!(review["strengths"].as_array().unwrap().len(), 2);
        assert_eq!(review["cefr"]["level"], Value::Null);
    }

    #[test]
    fn a_rewrite_says_the_whole_turn_again_without_errors_or_fillers() {
        assert_eq!(
            fix_all("Um, I am agree, she don't like it, uh, more better."),
            "I agree, she doesn't like it, better."
        );
        let review = review("[1] Tea is more better.\n[2] Um, I am agree with you.");
        let rewrites = review["rewrites"].as_array().unwrap();
        assert_eq!(rewrites[0]["turn"], 2);
        assert_eq!(rewrites[0]["better"], "I agree with you.");
        assert_eq!(rewrites[1]["better"], "Tea is better.");
    }

    #[test]
    fn without_errors_it_still_answers_in_full() {
        let review = review("[1] I would like a cup of coffee, please.");
        assert_eq!(review["corrections"].as_array().unwrap().len(), 0);
        let rewrite = &review["rewrites"][0];
        assert_eq!(rewrite["original"], "I would like a cup of coffee, please.");
        assert_eq!(
            rewrite["better"],
            "I would like a cup of coffee, please, because it matters to me."
        );
    }

    #[test]
    fn a_level_comes_with_enough_words() {
        let long = format!(
            "[1] {}",
            "I really enjoy talking about films and books. ".repeat(10)
        );
        assert_eq!(review(&long)["cefr"]["level"], "B2");
    }

    #[test]
    fn input_items_are_read_as_text() {
        let input =
            json!([{"role": "user", "content": [{"type": "input_text", "text": "[1] hi"}]}]);
        assert_eq!(input_text(&input), "[1] hi");
        assert_eq!(
            learner_turns("[1] hi\n[x] no\n[2]  there "),
            vec![(1, "hi".into()), (2, "there".into())]
        );
    }
}
