//! Saving: nothing the learner said or recorded is dropped while there is any way to keep it.

use super::*;

fn upload(sequence: u32) -> Effect {
    Effect::Upload {
        session: SESSION.into(),
        sequence,
    }
}

#[test]
fn signed_out_mid_call_keeps_every_chunk_and_turn_and_sends_them_once_back() {
    let mut page = Page::live();
    assert_eq!(page.chunk(0), [upload(0)]);
    // The sign-in lapsed: the upload is refused with a 401.
    let effects = page.input(Input::Uploaded {
        sequence: 0,
        result: Err(Retry::Later),
    });
    assert_eq!(
        effects,
        [Effect::Timer {
            timer: Timer::RetryChunk,
            after_ms: Backoff::SIGNED_OUT_MS
        }]
    );
    assert_eq!(page.trouble(), Some(SaveTrouble::SignedOut));
    assert!(
        matches!(page.state(), CallState::Live { .. }),
        "the call goes on"
    );
    // The learner keeps talking; the turn and the next chunk wait too.
    let said = page.learner_says("learner_1", "Could I have a croissant?");
    let effects = page.store(&said);
    assert_eq!(saved_turns(&effects).len(), 1);
    let effects = page.input(Input::TurnSaved {
        item_id: "learner_1".into(),
        result: Err(Retry::Later),
    });
    assert_eq!(
        timers(&effects),
        [(
            Timer::RetryTurn {
                item_id: "learner_1".into()
            },
            Backoff::SIGNED_OUT_MS
        )]
    );
    assert!(page.chunk(1).is_empty(), "one upload at a time, in order");
    // Still signed out at the next try: nothing is given up.
    for _ in 0..10 {
        assert_eq!(page.input(Input::Timer(Timer::RetryChunk)), [upload(0)]);
        page.input(Input::Uploaded {
            sequence: 0,
            result: Err(Retry::Later),
        });
    }
    assert_eq!(page.session.saves().unsent_chunks(), 2);
    assert_eq!(page.session.saves().pending_turns(), 1);
    // Signed in again in another tab: everything goes up, and the note goes.
    page.input(Input::Timer(Timer::RetryChunk));
    let effects = page.input(Input::Uploaded {
        sequence: 0,
        result: Ok(()),
    });
    assert_eq!(effects, [Effect::ForgetChunk { sequence: 0 }, upload(1)]);
    assert_eq!(page.trouble(), None);
    page.input(Input::Uploaded {
        sequence: 1,
        result: Ok(()),
    });
    let effects = page.input(Input::Timer(Timer::RetryTurn {
        item_id: "learner_1".into(),
    }));
    assert_eq!(saved_turns(&effects).len(), 1);
    let effects = page.input(Input::TurnSaved {
        item_id: "learner_1".into(),
        result: Ok(()),
    });
    assert_eq!(
        effects,
        [Effect::ForgetTurn {
            item_id: "learner_1".into()
        }]
    );
    assert!(page.session.saves().all_saved());
}

#[test]
fn end_waits_for_every_chunk_and_turn_before_ending_the_session() {
    let mut page = Page::live();
    page.chunk(0);
    let said = page.learner_says("learner_1", "A croissant, please.");
    page.store(&said);
    let effects = page.command(Command::End);
    assert!(effects.contains(&Effect::Release));
    assert!(timers(&effects).contains(&(Timer::SlowSaving, 20_000)));
    // The recorder's last chunk is made before it lets go.
    page.input(Input::ChunkMade);
    assert!(page.input(Input::Released).is_empty());
    assert!(page.input(Input::ChunkStored { sequence: 1 }).is_empty());
    let effects = page.input(Input::Uploaded {
        sequence: 0,
        result: Ok(()),
    });
    assert_eq!(effects, [Effect::ForgetChunk { sequence: 0 }, upload(1)]);
    page.input(Input::Uploaded {
        sequence: 1,
        result: Ok(()),
    });
    // Taking a while: the page says so, and keeps waiting.
    page.wait(20_000).input(Input::Timer(Timer::SlowSaving));
    assert_eq!(page.trouble(), Some(SaveTrouble::StillSending));
    let effects = page.input(Input::TurnSaved {
        item_id: "learner_1".into(),
        result: Ok(()),
    });
    assert_eq!(
        effects,
        [
            Effect::ForgetTurn {
                item_id: "learner_1".into()
            },
            Effect::EndSession {
                session: SESSION.into(),
                turns: 1,
                words: vec!["croissant".into()],
            }
        ]
    );
    assert_eq!(page.trouble(), None);
    assert_eq!(page.session.saves().finished(), None, "not ended yet");
    assert_eq!(
        page.input(Input::EndSaved { result: Ok(()) }),
        [Effect::Discard]
    );
    assert_eq!(page.session.saves().finished(), Some(SESSION));
}

#[test]
fn a_turn_that_settles_before_the_session_exists_waits_for_it() {
    let mut page = Page::ready();
    page.input(Input::Started { key: KEY.into() });
    page.input(Input::Opened { generation: 0 });
    let said = page.learner_says("learner_1", "Hello");
    assert_eq!(stored_turns(&said).len(), 1, "kept in the outbox at once");
    assert!(page.store(&said).is_empty(), "no session to save it to yet");
    assert!(page.chunk(0).is_empty());
    // The server is unreachable for a while: the page keeps trying, then says so.
    for _ in 0..4 {
        let effects = page.input(Input::Registered {
            key: KEY.into(),
            result: Err(Retry::Now),
        });
        assert!(matches!(timers(&effects)[..], [(Timer::RetryRegister, _)]));
        assert_eq!(
            page.input(Input::Timer(Timer::RetryRegister)),
            [Effect::Register { key: KEY.into() }]
        );
    }
    assert_eq!(page.trouble(), Some(SaveTrouble::NotStarted));
    // End meanwhile: the session comes first, then what it holds, then the end.
    page.command(Command::End);
    page.input(Input::Released);
    let effects = page.input(Input::Registered {
        key: KEY.into(),
        result: Ok(SESSION.into()),
    });
    assert_eq!(page.trouble(), None);
    assert_eq!(
        saved_turns(&effects),
        [("learner_1", "Hello", TurnState::Final)]
    );
    assert!(effects.contains(&upload(0)));
    page.input(Input::Uploaded {
        sequence: 0,
        result: Ok(()),
    });
    let effects = page.input(Input::TurnSaved {
        item_id: "learner_1".into(),
        result: Ok(()),
    });
    assert!(matches!(effects.last(), Some(Effect::EndSession { .. })));
    // A registration answer for an earlier attempt is not this one's.
    assert!(
        page.input(Input::Registered {
            key: "attempt-0".into(),
            result: Ok("other".into())
        })
        .is_empty()
    );
}

#[test]
fn a_session_refused_for_good_says_so_and_a_lost_call_then_saves_nothing() {
    let mut page = Page::ready();
    page.input(Input::Started { key: KEY.into() });
    page.input(Input::Opened { generation: 0 });
    page.input(Input::Registered {
        key: KEY.into(),
        result: Err(Retry::Never),
    });
    assert_eq!(page.session.problem(), Some(&Problem::NotRegistered));
    page.input(Input::Lost {
        generation: 0,
        cause: DropCause::Network,
    });
    for _ in 1..=CallState::MAX_RECONNECTS {
        let generation = page.generation();
        page.input(Input::Timer(Timer::Reconnect { generation }));
        let generation = page.generation();
        page.input(Input::Answered {
            generation,
            result: Err(ConnectError::Failed),
        });
    }
    assert_eq!(
        page.state(),
        &CallState::Failed(CallFailure::ConnectionLost)
    );
    let effects = page.input(Input::Released);
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::EndSession { .. } | Effect::Discard)),
        "nothing to end; the outbox copy stays for recovery: {effects:?}"
    );
    assert_eq!(page.trouble(), Some(SaveTrouble::NotSaved));
}

#[test]
fn the_end_is_retried_a_few_times_but_waits_out_a_lapsed_sign_in() {
    let mut page = Page::live();
    page.command(Command::End);
    let effects = page.input(Input::Released);
    assert!(matches!(effects[..], [Effect::EndSession { .. }]));
    // Signed out: waited out, whatever the count.
    for _ in 0..8 {
        let effects = page.input(Input::EndSaved {
            result: Err(Retry::Later),
        });
        assert_eq!(
            timers(&effects),
            [(Timer::RetryEnd, Backoff::SIGNED_OUT_MS)]
        );
        assert!(matches!(
            page.input(Input::Timer(Timer::RetryEnd))[..],
            [Effect::EndSession { .. }]
        ));
    }
    assert_eq!(page.trouble(), Some(SaveTrouble::SignedOut));
    // Passing trouble: five tries, then the page says the end is not saved (recovery ends it).
    let mut waits = Vec::new();
    for _ in 0..5 {
        let effects = page.input(Input::EndSaved {
            result: Err(Retry::Now),
        });
        waits.extend(timers(&effects).into_iter().map(|(_, ms)| ms));
        page.input(Input::Timer(Timer::RetryEnd));
    }
    assert_eq!(waits.len(), 4);
    assert_eq!(page.session.saves().finished(), None);
    // Being signed out stays on show over anything else (it is what the learner can act on).
    assert_eq!(page.trouble(), Some(SaveTrouble::SignedOut));

    let mut page = Page::live();
    page.command(Command::End);
    page.input(Input::Released);
    page.input(Input::EndSaved {
        result: Err(Retry::Gone),
    });
    assert_eq!(page.trouble(), Some(SaveTrouble::NotEnded));
    assert!(page.input(Input::Timer(Timer::RetryEnd)).is_empty());
}

#[test]
fn a_chunk_refused_for_good_is_given_up_alone_and_a_deleted_session_takes_the_rest() {
    let mut page = Page::live();
    page.chunk(0);
    page.chunk(1);
    let effects = page.input(Input::Uploaded {
        sequence: 0,
        result: Err(Retry::Never),
    });
    assert_eq!(effects, [Effect::ForgetChunk { sequence: 0 }, upload(1)]);
    page.chunk(2);
    let effects = page.input(Input::Uploaded {
        sequence: 1,
        result: Err(Retry::Gone),
    });
    assert_eq!(effects, [Effect::Discard]);
    assert_eq!(page.session.saves().unsent_chunks(), 0);
    // A stale answer for a chunk not being uploaded is ignored.
    assert!(
        page.input(Input::Uploaded {
            sequence: 2,
            result: Ok(())
        })
        .is_empty()
    );
}

#[test]
fn a_chunk_refused_for_a_limit_is_given_up_and_the_learner_is_told() {
    let mut page = Page::live();
    page.chunk(0);
    page.chunk(1);
    assert_eq!(page.trouble(), None);
    // Storage full (403) or the session's audio used up (413): nothing waits for a retry.
    let effects = page.input(Input::Uploaded {
        sequence: 0,
        result: Err(Retry::after_status(403).unwrap()),
    });
    assert_eq!(effects, [Effect::ForgetChunk { sequence: 0 }, upload(1)]);
    assert_eq!(page.trouble(), Some(SaveTrouble::Full));
    assert!(
        SaveTrouble::Full
            .message()
            .contains("Your account page shows what you've used")
    );
    // A later piece that goes through does not hide it: the limit is still reached.
    page.input(Input::Uploaded {
        sequence: 1,
        result: Ok(()),
    });
    assert_eq!(page.trouble(), Some(SaveTrouble::Full));
}

#[test]
fn turns_that_keep_failing_are_retried_with_backoff_and_the_page_speaks_up() {
    let mut page = Page::live();
    // Not transcribed at first (the turn is kept, marked so).
    page.server(json!({"type": "input_audio_buffer.speech_started",
        "item_id": "learner_1", "audio_start_ms": 2_000}));
    let said = page.server(json!({
        "type": "conversation.item.input_audio_transcription.failed",
        "item_id": "learner_1", "error": {"type": "server_error", "message": "busy"}}));
    assert_eq!(
        stored_turns(&said),
        [("learner_1", "", TurnState::TranscriptionFailed)]
    );
    page.store(&said);
    let mut waits = Vec::new();
    for _ in 0..6 {
        let effects = page.input(Input::TurnSaved {
            item_id: "learner_1".into(),
            result: Err(Retry::Now),
        });
        waits.extend(timers(&effects).into_iter().map(|(_, ms)| ms));
        let effects = page.input(Input::Timer(Timer::RetryTurn {
            item_id: "learner_1".into(),
        }));
        assert_eq!(saved_turns(&effects).len(), 1);
    }
    assert_eq!(waits, [500, 1_000, 2_000, 4_000, 8_000, 15_000]);
    assert_eq!(page.trouble(), Some(SaveTrouble::TurnsWaiting));
    // The transcript comes after all while a save is in flight: it is sent after it.
    let effects = page.server(json!({
        "type": "conversation.item.input_audio_transcription.completed",
        "item_id": "learner_1", "transcript": "Hello there"}));
    let stored = page.store(&effects);
    assert!(
        saved_turns(&stored).is_empty(),
        "one save of a turn at a time"
    );
    let effects = page.input(Input::TurnSaved {
        item_id: "learner_1".into(),
        result: Ok(()),
    });
    assert_eq!(
        saved_turns(&effects),
        [("learner_1", "Hello there", TurnState::Final)]
    );
    page.input(Input::TurnSaved {
        item_id: "learner_1".into(),
        result: Ok(()),
    });
    assert_eq!(page.trouble(), None);
    assert!(page.session.saves().all_saved());
}
