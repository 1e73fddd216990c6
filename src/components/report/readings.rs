//! The plain reading beside each headline figure, compared with the learner's own earlier
//! sessions first.

use super::*;

/// "About your usual", "faster than your usual 110", or, with no earlier session, where the pace
/// sits among conversational speech rates (see research.md).
pub fn pace_reading(wpm: Option<f64>, base: Option<&Baseline>) -> String {
    let Some(wpm) = wpm else {
        return "Your turns were too short to time.".to_owned();
    };
    if let Some(usual) = base.and_then(|b| b.pace_wpm) {
        let difference = wpm - usual;
        return if difference.abs() < 8.0 {
            format!("About your usual pace ({} wpm).", usual.round())
        } else if difference > 0.0 {
            format!("Faster than your usual {} wpm.", usual.round())
        } else {
            format!("Slower than your usual {} wpm.", usual.round())
        };
    }
    if wpm < 90.0 {
        "Unhurried. Taking your time is fine while fluency grows.".to_owned()
    } else if wpm <= 160.0 {
        "A comfortable conversational pace.".to_owned()
    } else {
        "Quick. Short pauses help your listener follow.".to_owned()
    }
}

pub fn fillers_reading(metrics: &SpeechMetrics, base: Option<&Baseline>) -> String {
    let Some(rate) = metrics.fillers.per_100_words else {
        return "No words to count.".to_owned();
    };
    let top = metrics
        .fillers
        .top
        .iter()
        .map(|(filler, n)| format!("“{filler}” ×{n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let top = if top.is_empty() {
        String::new()
    } else {
        format!(" Most often: {top}.")
    };
    if let Some(usual) = base.and_then(|b| b.fillers_per_100_words) {
        let reading = if (rate - usual).abs() < 0.5 {
            format!("About your usual {}.", one_decimal(usual))
        } else if rate < usual {
            format!("Fewer than your usual {}.", one_decimal(usual))
        } else {
            format!("More than your usual {}.", one_decimal(usual))
        };
        return format!("{reading}{top}");
    }
    let reading = if metrics.fillers.count == 0 {
        "None at all."
    } else if rate < 3.0 {
        "Few: your speech flowed."
    } else if rate < 6.0 {
        "Some, about as many as everyday conversation has."
    } else {
        "Many. A short silent pause works better."
    };
    format!("{reading}{top}")
}

pub fn share_reading(share: Option<f64>) -> String {
    match share {
        None => "No timed speech.".to_owned(),
        Some(s) if s < 0.35 => "The coach did most of the talking: try longer answers.".to_owned(),
        Some(s) if s <= 0.65 => "A balanced conversation.".to_owned(),
        Some(_) => "Most of the talking was yours: great practice.".to_owned(),
    }
}

pub fn words_reading(metrics: &SpeechMetrics, base: Option<&Baseline>) -> String {
    match &metrics.new_words {
        None => "Your first session with feedback: the next ones compare with it.".to_owned(),
        Some(_) if metrics.new_word_count == 0 => {
            let usual = base.and_then(|b| b.distinct_words);
            match usual {
                Some(usual) => format!("No new words this time (usually {}).", usual.round()),
                None => "No new words this time.".to_owned(),
            }
        }
        Some(_) if metrics.new_word_count == 1 => "1 word you had not used before.".to_owned(),
        Some(_) => format!("{} words you had not used before.", metrics.new_word_count),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(pace: f64) -> Baseline {
        Baseline {
            sessions: 3,
            pace_wpm: Some(pace),
            fillers_per_100_words: Some(4.0),
            learner_share: Some(0.5),
            distinct_words: Some(60.0),
        }
    }

    #[test]
    fn pace_is_read_against_the_learners_usual_pace_first() {
        assert_eq!(
            pace_reading(Some(130.0), Some(&base(110.0))),
            "Faster than your usual 110 wpm."
        );
        assert_eq!(
            pace_reading(Some(112.0), Some(&base(110.0))),
            "About your usual pace (110 wpm)."
        );
        assert_eq!(
            pace_reading(Some(120.0), None),
            "A comfortable conversational pace."
        );
        assert_eq!(
            pace_reading(None, None),
            "Your turns were too short to time."
        );
    }

    #[test]
    fn fillers_name_the_most_frequent() {
        let mut metrics = SpeechMetrics::default();
        metrics.fillers.count = 3;
        metrics.fillers.per_100_words = Some(2.0);
        metrics.fillers.top = vec![("um".into(), 2), ("like".into(), 1)];
        assert_eq!(
            fillers_reading(&metrics, None),
            "Few: your speech flowed. Most often: “um” ×2, “like” ×1."
        );
        assert_eq!(
            fillers_reading(&metrics, Some(&base(100.0))),
            "Fewer than your usual 4. Most often: “um” ×2, “like” ×1."
        );
    }
}
