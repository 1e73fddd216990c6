//! The call: getting ready, starting, connecting, talking, losing and regaining it, ending.

use super::*;

#[test]
fn start_records_and_connects_with_the_secret_from_the_check() {
    let mut page = Page::ready();
    let effects = page.input(Input::Started { key: KEY.into() });
    assert_eq!(
        effects,
        [
            Effect::MakePeer { generation: 0 },
            Effect::StartRecorder { key: KEY.into() },
            Effect::Connect {
                generation: 0,
                secret: secret(600.0)
            },
        ]
    );
    assert_eq!(page.state(), &CallState::Connecting);
    let effects = page.input(Input::Answered {
        generation: 0,
        result: Ok(()),
    });
    assert_eq!(
        timers(&effects),
        [(Timer::ConnectTimeout { generation: 0 }, 10_000)]
    );
    let effects = page.input(Input::Opened { generation: 0 });
    assert_eq!(
        effects[0],
        Effect::Send(ClientEvent::ResponseCreate { response: None }),
        "the coach greets first"
    );
    assert!(effects.contains(&Effect::Live));
    assert!(effects.contains(&Effect::Register { key: KEY.into() }));
    assert_eq!(
        page.state(),
        &CallState::Live {
            coach_speaking: false
        }
    );
    // Up in time: the connect timer that fires later does nothing.
    assert!(
        page.input(Input::Timer(Timer::ConnectTimeout { generation: 0 }))
            .is_empty()
    );
}

#[test]
fn a_secret_about_to_expire_is_replaced_before_connecting_and_a_401_renews_it_once() {
    // Minted with 60 s to live; the learner reads the topic for 40 s, leaving less than the margin.
    let mut page = Page::ready_with(60.0);
    let effects = page.wait(40_000).input(Input::Started { key: KEY.into() });
    assert!(effects.contains(&Effect::Mint { generation: 0 }));
    assert!(!effects.iter().any(|e| matches!(e, Effect::Connect { .. })));
    let effects = page.input(Input::Minted {
        generation: 0,
        result: Ok(secret(700.0)),
    });
    assert_eq!(
        effects,
        [Effect::Connect {
            generation: 0,
            secret: secret(700.0)
        }]
    );
    // That fresh one is refused too: nothing more to renew, the learner is told.
    page.input(Input::Answered {
        generation: 0,
        result: Err(ConnectError::Unauthorized),
    });
    assert_eq!(
        page.state(),
        &CallState::Failed(CallFailure::CoachUnavailable)
    );
    assert_eq!(page.session.problem(), Some(&Problem::SecretExpired));

    // A secret that looked fresh but is refused (revoked, clock skew) is renewed once.
    let mut page = Page::ready();
    // The pre-call check's secret belongs to no session yet.
    assert_eq!(page.session.session_key(), None);
    page.input(Input::Started { key: KEY.into() });
    let effects = page.input(Input::Answered {
        generation: 0,
        result: Err(ConnectError::Unauthorized),
    });
    assert_eq!(effects, [Effect::Mint { generation: 0 }]);
    assert_eq!(page.session.session_key(), Some(KEY));
    let effects = page.input(Input::Minted {
        generation: 0,
        result: Ok(secret(650.0)),
    });
    assert!(matches!(effects[..], [Effect::Connect { .. }]));
    assert_eq!(page.state(), &CallState::Connecting);
}

#[test]
fn a_call_that_does_not_come_up_fails_with_the_reason_and_keeps_nothing() {
    for (error, problem) in [
        (ConnectError::Timeout, Problem::NoAnswer),
        (ConnectError::Busy, Problem::Busy),
        (ConnectError::Refused, Problem::Unavailable),
        (ConnectError::Failed, Problem::NoConnection),
        (ConnectError::NoPeer, Problem::NoPeer),
    ] {
        let mut page = Page::ready();
        page.input(Input::Started { key: KEY.into() });
        let effects = page.input(Input::Answered {
            generation: 0,
            result: Err(error),
        });
        assert_eq!(effects, [Effect::Release], "{error:?}");
        assert_eq!(page.session.problem(), Some(&problem));
        // The recorder's last chunk lands, then the attempt is forgotten.
        page.input(Input::ChunkMade);
        assert!(
            page.input(Input::Released).is_empty(),
            "a chunk is still being kept"
        );
        assert_eq!(
            page.input(Input::ChunkStored { sequence: 0 }),
            [Effect::Discard]
        );
    }
    // Answered, but the channel never opens.
    let mut page = Page::ready();
    page.input(Input::Started { key: KEY.into() });
    page.input(Input::Answered {
        generation: 0,
        result: Ok(()),
    });
    page.wait(10_000)
        .input(Input::Timer(Timer::ConnectTimeout { generation: 0 }));
    assert_eq!(page.session.problem(), Some(&Problem::NotCompleted));
    assert_eq!(
        page.state(),
        &CallState::Failed(CallFailure::CoachUnavailable)
    );
}

#[test]
fn the_check_fails_with_what_the_learner_can_do_and_try_again_starts_it_over() {
    let mut page = Page::new();
    page.input(Input::CheckStarted { supported: true });
    let effects = page.input(Input::MicFailed(CallFailure::MicDenied));
    assert_eq!(effects, [Effect::Release]);
    assert_eq!(page.state(), &CallState::Failed(CallFailure::MicDenied));
    // The secret arriving afterwards changes nothing.
    page.input(Input::Minted {
        generation: 0,
        result: Ok(secret(600.0)),
    });
    assert_eq!(page.state(), &CallState::Failed(CallFailure::MicDenied));
    let effects = page.input(Input::CheckStarted { supported: true });
    assert!(effects.contains(&Effect::OpenMic));
    assert!(matches!(page.state(), CallState::Checking { .. }));

    let mut page = Page::new();
    page.input(Input::CheckStarted { supported: true });
    page.input(Input::Minted {
        generation: 0,
        result: Err(MintError::TooManyAttempts {
            retry_after_secs: 30,
        }),
    });
    assert_eq!(
        page.state(),
        &CallState::Failed(CallFailure::TooManyAttempts {
            retry_after_secs: 30
        })
    );

    let mut page = Page::new();
    page.input(Input::CheckStarted { supported: false });
    assert_eq!(page.state(), &CallState::Failed(CallFailure::Unsupported));
}

#[test]
fn push_to_talk_gives_the_learner_the_floor() {
    let mut page = Page::live();
    let effects = page.command(Command::SetPushToTalk(true));
    assert_eq!(
        effects,
        [Effect::Send(turn_detection(true)), Effect::MicOpen(false)]
    );
    page.server(json!({"type": "response.created", "response": {"id": "resp_1"}}));
    page.server(json!({"type": "output_audio_buffer.started", "response_id": "resp_1"}));
    let effects = page.command(Command::Hold);
    assert_eq!(
        effects,
        [
            Effect::Send(ClientEvent::ResponseCancel),
            Effect::Send(ClientEvent::OutputAudioClear),
            Effect::Send(ClientEvent::InputAudioClear),
            Effect::MicOpen(true),
        ]
    );
    assert!(page.command(Command::Hold).is_empty(), "already held");
    let effects = page.command(Command::LetGo);
    assert_eq!(
        effects,
        [
            Effect::MicOpen(false),
            Effect::Send(ClientEvent::InputAudioCommit),
            Effect::Send(ClientEvent::ResponseCreate { response: None }),
        ]
    );
    assert!(page.command(Command::LetGo).is_empty());
}

#[test]
fn push_to_talk_cancels_a_reply_that_is_not_audible_yet() {
    let mut page = Page::live();
    page.command(Command::SetPushToTalk(true));
    // The coach is making a reply, but nothing plays yet.
    page.server(json!({"type": "response.created", "response": {"id": "resp_2"}}));
    let effects = page.command(Command::Hold);
    assert_eq!(
        effects,
        [
            Effect::Send(ClientEvent::ResponseCancel),
            Effect::Send(ClientEvent::InputAudioClear),
            Effect::MicOpen(true),
        ],
        "else the learner's response.create meets an active response"
    );
    page.command(Command::LetGo);

    // A reply that is finished but still playing: its audio is cleared, and nothing is
    // cancelled (OpenAI errors on a cancel with no active response).
    page.server(json!({"type": "response.created", "response": {"id": "resp_3"}}));
    page.server(json!({"type": "output_audio_buffer.started", "response_id": "resp_3"}));
    page.server(
        json!({"type": "response.done", "response": {"id": "resp_3", "status": "completed"}}),
    );
    let effects = page.command(Command::Hold);
    assert_eq!(
        effects,
        [
            Effect::Send(ClientEvent::OutputAudioClear),
            Effect::Send(ClientEvent::InputAudioClear),
            Effect::MicOpen(true),
        ]
    );
}

#[test]
fn end_during_a_coach_sentence_keeps_it_as_interrupted() {
    let mut page = Page::live();
    page.server(json!({"type": "output_audio_buffer.started", "response_id": "resp_1"}));
    page.wait(300).coach_says("coach_1", &["Hi!", " I'm"]);
    let effects = page.wait(200).command(Command::End);
    assert_eq!(page.state(), &CallState::Ended);
    assert_eq!(
        stored_turns(&effects),
        [("coach_1", "Hi! I'm", TurnState::Interrupted)]
    );
    assert!(effects.contains(&Effect::Release));
    // The rest of the sentence arriving after End changes nothing.
    assert!(page.coach_done("coach_1", "Hi! I'm your coach.").is_empty());
    let effects = page.store(&effects);
    assert_eq!(
        saved_turns(&effects),
        [("coach_1", "Hi! I'm", TurnState::Interrupted)]
    );
}

#[test]
fn turns_are_stamped_where_they_were_spoken_in_the_recording() {
    let mut page = Page::ready();
    page.input(Input::Started { key: KEY.into() });
    // The recording starts at Start; the call comes up 400 ms later.
    page.wait(400).input(Input::Opened { generation: 0 });
    // The reply's text comes well ahead of its voice: its time is when its audio played.
    page.wait(600).coach_says("coach_1", &["Hello"]);
    page.server(json!({"type": "response.output_audio_transcript.done",
        "response_id": "resp_1", "item_id": "coach_1", "transcript": "Hello."}));
    let effects = page.server(
        json!({"type": "response.done", "response": {"id": "resp_1", "status": "completed"}}),
    );
    assert!(stored_turns(&effects).is_empty(), "not heard yet");
    page.wait(400)
        .server(json!({"type": "output_audio_buffer.started", "response_id": "resp_1"}));
    let effects = page
        .wait(2_000)
        .server(json!({"type": "output_audio_buffer.stopped", "response_id": "resp_1"}));
    let Some(Effect::StoreTurn(coach)) = effects.first() else {
        panic!("the coach's turn is kept: {effects:?}");
    };
    assert_eq!((coach.start_ms, coach.end_ms), (Some(1_400), Some(3_400)));
    assert_eq!(coach.state, TurnState::Final);
    // The learner's times come from the coach's voice detection, from when the call came up,
    // less the padding kept before speech (300 ms) and the silence that ended it (500 ms).
    let effects = page.learner_says("learner_1", "Hi");
    let learner = effects
        .iter()
        .find_map(|e| match e {
            Effect::StoreTurn(turn) if turn.speaker == Speaker::Learner => Some(turn),
            _ => None,
        })
        .expect("the learner's turn is kept");
    assert_eq!(
        (learner.start_ms, learner.end_ms),
        (Some(2_700), Some(3_400))
    );
}

#[test]
fn every_timer_firing_after_the_page_is_gone_does_nothing() {
    let mut page = Page::live();
    page.learner_says("learner_1", "Hello");
    page.chunk(0);
    page.input(Input::Uploaded {
        sequence: 0,
        result: Err(Retry::Now),
    });
    page.command(Command::End);
    assert_eq!(page.input(Input::Left), [Effect::Teardown]);
    let timers = [
        Timer::ConnectTimeout { generation: 0 },
        Timer::Reconnect { generation: 0 },
        Timer::RetryRegister,
        Timer::RetryTurn {
            item_id: "learner_1".into(),
        },
        Timer::RetryChunk,
        Timer::RetryEnd,
        Timer::SlowSaving,
        Timer::BackNotice,
    ];
    for timer in timers {
        assert!(
            page.wait(60_000)
                .input(Input::Timer(timer.clone()))
                .is_empty(),
            "{timer:?}"
        );
    }
    // …and so does anything else still in flight.
    assert!(page.input(Input::Released).is_empty());
    assert!(
        page.input(Input::Uploaded {
            sequence: 0,
            result: Ok(())
        })
        .is_empty()
    );
    assert!(page.input(Input::Left).is_empty());
}

#[test]
fn events_out_of_place_are_counted_not_acted_on() {
    let mut page = Page::ready();
    let before = page.session.ignored();
    page.command(Command::End);
    page.command(Command::End);
    assert_eq!(page.session.ignored(), before + 1, "ending twice");
    assert_eq!(page.state(), &CallState::Ended);
}

#[test]
fn the_transcript_version_moves_exactly_when_the_transcript_changes() {
    let mut page = Page::live();
    let version = page.session.transcript_version();
    page.server(json!({"type": "output_audio_buffer.started", "response_id": "resp_1"}));
    assert_eq!(
        page.session.transcript_version(),
        version,
        "no turn changed"
    );
    page.coach_says("coach_1", &["Hi"]);
    let spoken = page.session.transcript_version();
    assert!(spoken > version);
    page.input(Input::Timer(Timer::BackNotice));
    assert_eq!(page.session.transcript_version(), spoken);
    page.command(Command::End);
    assert!(
        page.session.transcript_version() > spoken,
        "settling the open turn is a change"
    );
}
