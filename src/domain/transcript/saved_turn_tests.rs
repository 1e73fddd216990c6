//! Saved turns: which one is heard at a point of the recording, and which may be stored.

use super::*;

fn spoken(speaker: Speaker, start: u64, end: u64) -> SavedTurn {
    SavedTurn {
        item_id: format!("item_{start}"),
        speaker,
        text: "words".into(),
        state: TurnState::Final,
        start_ms: Some(start),
        end_ms: Some(end),
        position: 0,
    }
}

#[test]
fn the_turn_being_heard_is_the_last_one_started_and_not_ended() {
    let turns = [
        spoken(Speaker::Coach, 0, 3_000),
        spoken(Speaker::Learner, 4_000, 6_000),
        spoken(Speaker::Coach, 5_500, 9_000),
    ];
    let spans: Vec<_> = turns.iter().map(SavedTurn::span).collect();
    let turn_at = |position| span_at(&spans, position);
    assert_eq!(turn_at(1_000.0), Some(0));
    assert_eq!(turn_at(3_500.0), None, "between turns");
    assert_eq!(turn_at(4_000.0), Some(1));
    assert_eq!(turn_at(5_800.0), Some(2), "the later of two overlapping");
    assert_eq!(turn_at(9_000.0), None, "after the end");
    assert_eq!(talk_times(&turns), (2_000, 6_500));
}

fn turn() -> SavedTurn {
    SavedTurn {
        item_id: "item_abc-1".into(),
        speaker: Speaker::Learner,
        text: "Hello".into(),
        state: TurnState::Final,
        start_ms: Some(100),
        end_ms: Some(900),
        position: 0,
    }
}

#[test]
fn a_settled_turn_with_sane_fields_can_be_saved() {
    assert_eq!(turn().problem(), None);
    let unknown_times = SavedTurn {
        start_ms: None,
        end_ms: None,
        ..turn()
    };
    assert_eq!(unknown_times.problem(), None);
}

#[test]
fn partial_oversized_and_odd_turns_are_refused() {
    let cases = [
        SavedTurn {
            state: TurnState::InProgress,
            ..turn()
        },
        SavedTurn {
            item_id: String::new(),
            ..turn()
        },
        SavedTurn {
            item_id: "../x".into(),
            ..turn()
        },
        SavedTurn {
            text: "a".repeat(SavedTurn::MAX_TEXT + 1),
            ..turn()
        },
        SavedTurn {
            start_ms: Some(10),
            end_ms: Some(5),
            ..turn()
        },
        SavedTurn {
            end_ms: Some(u64::MAX),
            ..turn()
        },
    ];
    for case in cases {
        assert!(case.problem().is_some(), "{case:?}");
    }
}
