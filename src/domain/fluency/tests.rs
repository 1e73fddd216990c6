//! The measures, each on turns made up for it.

use super::*;

fn turn(id: &str, speaker: Speaker, text: &str, span: Option<(u64, u64)>) -> SavedTurn {
    SavedTurn {
        item_id: id.into(),
        speaker,
        text: text.into(),
        state: TurnState::Final,
        start_ms: span.map(|s| s.0),
        end_ms: span.map(|s| s.1),
        position: 0,
    }
}

fn learner(id: &str, text: &str, span: (u64, u64)) -> SavedTurn {
    turn(id, Speaker::Learner, text, Some(span))
}

fn coach(id: &str, text: &str, span: (u64, u64)) -> SavedTurn {
    turn(id, Speaker::Coach, text, Some(span))
}

const NONE: Padding = Padding {
    prefix_ms: 0,
    silence_ms: 0,
};

fn measured(turns: &[SavedTurn]) -> SpeechMetrics {
    measure(turns, Padding::REALTIME, &Context::default())
}

#[test]
fn no_turns_measure_nothing() {
    let m = measured(&[]);
    assert_eq!(m.learner_words, 0);
    assert_eq!(m.learner_turns, 0);
    assert_eq!(m.pace_wpm, None);
    assert_eq!(m.learner_share, None);
    assert_eq!(m.fillers.per_100_words, None);
    assert_eq!(m.mattr, None);
    assert_eq!(m.answer_gaps, None);
    assert!(m.longest_turn.is_none());
}

#[test]
fn padding_comes_off_both_ends_of_a_learner_turn() {
    let t = learner("a", "hello there", (1_000, 3_000));
    assert_eq!(Padding::REALTIME.speech(&t), Some((1_300, 2_500)));
    // Shorter than its padding: nothing is left to time.
    let t = learner("b", "yes", (1_000, 1_700));
    assert_eq!(Padding::REALTIME.speech(&t), None);
    let t = turn("c", Speaker::Learner, "untimed", None);
    assert_eq!(Padding::REALTIME.speech(&t), None);
}

#[test]
fn pace_is_words_over_corrected_speaking_time() {
    // 10 words in 4 s of speech (4.8 s with padding): 150 words a minute.
    let turns = [learner(
        "a",
        "I would like a small cup of coffee to go",
        (2_000, 6_800),
    )];
    let m = measured(&turns);
    assert_eq!(m.learner_words, 10);
    assert_eq!(m.learner_speaking_ms, 4_000);
    assert_eq!(m.pace_wpm, Some(150.0));
    assert_eq!(m.turns[0].wpm, Some(150.0));
    assert_eq!(m.longest_turn.as_ref().unwrap().item_id, "a");
}

#[test]
fn a_one_word_turn_counts_its_word_but_gives_no_pace() {
    let turns = [learner("a", "Yes.", (0, 1_500))];
    let m = measured(&turns);
    assert_eq!(m.learner_words, 1);
    assert_eq!(m.learner_turns, 1);
    assert_eq!(m.turns[0].wpm, None);
    assert_eq!(m.pace_wpm, None);
}

#[test]
fn session_pace_weighs_turns_by_their_length() {
    // 6 words in 2 s and 12 words in 6 s: 18 words in 8 s = 135 wpm (not the mean of 180 and
    // 120).
    let turns = [
        learner("a", "one two three four five six", (0, 2_000)),
        learner(
            "b",
            "one two three four five six seven eight nine ten eleven twelve",
            (10_000, 16_000),
        ),
    ];
    let m = measure(&turns, NONE, &Context::default());
    assert_eq!(m.turns[0].wpm, Some(180.0));
    assert_eq!(m.turns[1].wpm, Some(120.0));
    assert_eq!(m.pace_wpm, Some(135.0));
    assert_eq!(m.longest_turn.unwrap().item_id, "b");
}

#[test]
fn speaking_share_and_answer_gaps_come_from_the_turn_times() {
    let turns = [
        coach("c1", "What would you like?", (0, 3_000)),
        // Speech from 3_800 to 5_500: answered 800 ms after the coach stopped.
        learner("l1", "A coffee, please.", (3_500, 6_000)),
        coach("c2", "Small or large?", (6_500, 8_500)),
        // Speech from 10_800: a 2.3 s gap.
        learner("l2", "Large.", (10_500, 12_000)),
    ];
    let m = measured(&turns);
    assert_eq!(m.learner_speaking_ms, 1_700 + 700);
    assert_eq!(m.coach_speaking_ms, 5_000);
    let share = m.learner_share.unwrap();
    assert!((share - 2_400.0 / 7_400.0).abs() < 1e-9, "{share}");
    let gaps = m.answer_gaps.unwrap();
    assert_eq!(gaps.count, 2);
    assert_eq!(gaps.median_ms, 800);
    assert_eq!(gaps.longest_ms, 2_300);
}

#[test]
fn a_learner_who_talks_over_the_coach_answered_at_once() {
    let turns = [
        coach("c1", "Tell me about", (0, 3_000)),
        learner("l1", "Sorry, I mean the station", (2_000, 5_000)),
    ];
    assert_eq!(measured(&turns).answer_gaps.unwrap().median_ms, 0);
}

#[test]
fn untranscribed_and_coach_turns_have_no_words() {
    let mut failed = learner("a", "", (0, 3_000));
    failed.state = TurnState::TranscriptionFailed;
    let turns = [
        failed,
        coach("c", "Could you say that again?", (3_000, 5_000)),
    ];
    let m = measured(&turns);
    assert_eq!(m.learner_turns, 1);
    assert_eq!(m.learner_words, 0);
    // They spoke, though.
    assert_eq!(m.learner_speaking_ms, 2_200);
}

#[test]
fn fillers_are_counted_per_hundred_words_with_the_top_ones() {
    // 20 words, 4 fillers (um x2, uh, you know).
    let text = "Um, I think the, um, station is uh near the park, you know, \
                next to the big old bank here";
    let turns = [learner("a", text, (0, 9_000))];
    let m = measured(&turns);
    assert_eq!(m.learner_words, 20);
    assert_eq!(m.fillers.count, 4);
    assert_eq!(m.fillers.per_100_words, Some(20.0));
    assert_eq!(
        m.fillers.top,
        vec![
            ("um".to_owned(), 2),
            ("uh".to_owned(), 1),
            ("you know".to_owned(), 1)
        ]
    );
}

#[test]
fn a_filler_only_turn_is_all_fillers() {
    let turns = [learner("a", "Um... uh, hmm.", (0, 2_000))];
    let m = measured(&turns);
    assert_eq!(m.learner_words, 3);
    assert_eq!(m.fillers.count, 3);
    assert_eq!(m.fillers.per_100_words, Some(100.0));
    // Fillers are not vocabulary.
    assert_eq!(m.distinct_words, 0);
}

#[test]
fn like_you_know_and_i_mean_count_only_as_fillers() {
    let count = |text: &str| fillers_in(&tokens(text));
    assert_eq!(count("I like coffee."), Vec::<&str>::new());
    assert_eq!(
        count("I'd like a cup of tea, like, a big one."),
        vec!["like"]
    );
    assert_eq!(count("It was, like, amazing."), vec!["like"]);
    assert_eq!(count("Things like apples, and pears."), Vec::<&str>::new());
    assert_eq!(
        count("Do you know where the station is?"),
        Vec::<&str>::new()
    );
    assert_eq!(count("You know what I think?"), Vec::<&str>::new());
    assert_eq!(count("It's, you know, far."), vec!["you know"]);
    assert_eq!(count("I mean, it's fine."), vec!["I mean"]);
    assert_eq!(count("I mean it."), Vec::<&str>::new());
    assert_eq!(count("It's a kind of bread."), Vec::<&str>::new());
    assert_eq!(count("It's kind of far."), vec!["kind of"]);
    assert_eq!(
        count("Basically I actually agree."),
        vec!["basically", "actually"]
    );
}

#[test]
fn immediate_repetitions_of_words_and_phrases_are_found() {
    let found = |text: &str| repetitions_in(&tokens(text));
    assert_eq!(found("I I went there."), vec!["I I"]);
    assert_eq!(found("I went I went to the shop."), vec!["I went I went"]);
    assert_eq!(
        found("We can we can go by by bus."),
        vec!["We can we can", "by by"]
    );
    // Ordinary doubles and fillers are not repetitions.
    assert_eq!(
        found("He had had enough, very very much. Um um."),
        Vec::<String>::new()
    );
    assert_eq!(found("the theatre"), Vec::<String>::new());
    let m = measured(&[learner("a", "The the bus is late.", (0, 3_000))]);
    assert_eq!(m.repetitions.count, 1);
    assert_eq!(m.repetitions.examples, vec!["The the"]);
}

#[test]
fn mattr_averages_windows_and_needs_one_full_window() {
    let words = |list: &[&str]| list.iter().map(|w| (*w).to_owned()).collect::<Vec<_>>();
    // Windows of 3 over a b a c: {a,b,a} = 2/3, {b,a,c} = 3/3: mean 5/6.
    let value = mattr(&words(&["a", "b", "a", "c"]), 3).unwrap();
    assert!((value - 5.0 / 6.0).abs() < 1e-12, "{value}");
    assert_eq!(mattr(&words(&["a", "b"]), 3), None);
    // One window: plain TTR.
    assert_eq!(mattr(&words(&["a", "a", "b"]), 3), Some(2.0 / 3.0));
    // 50 different words then the same 50 again: every window holds 50 different words.
    let many: Vec<String> = (0..100).map(|n| format!("w{}", n % 50)).collect();
    assert_eq!(mattr(&many, 50), Some(1.0));
    // The same word over and over.
    let same: Vec<String> = (0..60).map(|_| "go".to_owned()).collect();
    assert_eq!(mattr(&same, 50), Some(1.0 / 50.0));
}

#[test]
fn mattr_is_measured_once_a_session_has_fifty_words() {
    let text = (0..49)
        .map(|n| format!("w{n}"))
        .collect::<Vec<_>>()
        .join(" ");
    assert_eq!(measured(&[learner("a", &text, (0, 20_000))]).mattr, None);
    let text = format!("{text} w0");
    let m = measured(&[learner("a", &text, (0, 20_000))]);
    assert_eq!(m.mattr, Some(0.98));
    assert_eq!(m.distinct_words, 49);
}

#[test]
fn topic_words_and_new_words_are_listed() {
    let vocabulary = vec![
        "small".to_owned(),
        "the bill".to_owned(),
        "large".to_owned(),
    ];
    let earlier: HashSet<String> = ["coffee".to_owned()].into();
    let turns = [learner(
        "a",
        "A small coffee and a croissant, and the bill please.",
        (0, 5_000),
    )];
    let first = measure(
        &turns,
        Padding::REALTIME,
        &Context {
            vocabulary: &vocabulary,
            earlier_words: None,
            pauses: None,
        },
    );
    assert_eq!(first.topic_words_used, vec!["small", "the bill"]);
    assert_eq!(first.topic_words_unused, vec!["large"]);
    assert_eq!(first.new_words, None);
    let later = measure(
        &turns,
        Padding::REALTIME,
        &Context {
            vocabulary: &vocabulary,
            earlier_words: Some(&earlier),
            pauses: None,
        },
    );
    assert_eq!(
        later.new_words,
        Some(vec![
            "small".to_owned(),
            "croissant".to_owned(),
            "bill".to_owned(),
            "please".to_owned()
        ])
    );
    assert_eq!(later.new_word_count, 4);
}

#[test]
fn content_words_leave_out_function_words_numbers_and_fillers() {
    assert_eq!(
        content_words(["Um, I'd like the 2 croissants and the croissants, basically."]),
        vec!["croissants"]
    );
}

#[test]
fn pauses_are_silences_of_a_second_or_more_between_speech() {
    // 20 ms frames: noise at -70 dB, speech at -20 dB.
    let mut levels = vec![-70.0f32; 50]; // 1 s of silence before the turn
    levels.extend([-20.0; 25]); // speech 0.5 s
    levels.extend([-70.0; 60]); // a 1.2 s pause
    levels.extend([-20.0; 25]); // speech
    levels.extend([-68.0; 30]); // 0.6 s: too short to count
    levels.extend([-22.0; 25]); // speech
    levels.extend([-70.0; 40]); // trailing silence inside the span: not a pause
    let span = (1_000, levels.len() as u64 * 20);
    let pauses = pauses_in(&levels, 20, &[span]);
    assert_eq!(pauses.count, 1);
    assert_eq!(pauses.longest_ms, 1_200);
    assert_eq!(pauses.measured_ms, span.1 - span.0);
    // A span with no speech in it (noise only) finds nothing.
    let quiet = pauses_in(&vec![-70.0; 200], 20, &[(0, 4_000)]);
    assert_eq!(quiet.count, 0);
    // Nothing to measure.
    assert_eq!(pauses_in(&[], 20, &[(0, 1_000)]).measured_ms, 0);
}
