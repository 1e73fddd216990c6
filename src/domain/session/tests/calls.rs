//! The call: getting ready, starting, connecting, talking, losing and regaining it, ending.

use super::*;

/// The events a list of effects sends to the coach.
fn sent(effects: &[Effect]) -> Vec<&ClientEvent> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Send(event) => Some(event),
            _ => None,
        })
        .collect()
}

#[test]
fn start_on_the_warm_call_lets_the_microphone_through_and_asks_for_the_greeting_at_once() {
    let mut page = Page::warm();
    let effects = page.wait(3_000).input(Input::Started { key: KEY.into() });
    assert_eq!(
        effects[..6],
        [
            Effect::SendMic,
            Effect::Play,
            // Turn detection comes on (the secret has it off), then the coach greets, before
            // the recorder starts (which takes the browser a few milliseconds).
            Effect::Send(turn_detection(false)),
            Effect::Send(ClientEvent::ResponseCreate { response: None }),
            Effect::StartRecorder { key: KEY.into() },
            Effect::Live,
        ]
    );
    assert!(effects.contains(&Effect::Live));
    assert!(effects.contains(&Effect::Register { key: KEY.into() }));
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::MakePeer { .. } | Effect::Connect { .. })),
        "no second call"
    );
    assert_eq!(
        page.state(),
        &CallState::Live {
            coach_speaking: false
        }
    );
    assert_eq!(page.session.session_key(), Some(KEY));
    // The warm call's timers, firing later, do nothing.
    assert!(
        page.input(Input::Timer(Timer::ConnectTimeout { generation: 0 }))
            .is_empty()
    );
    assert!(
        page.wait(600_000)
            .input(Input::Timer(Timer::WarmExpiry { generation: 0 }))
            .is_empty()
    );
    assert!(matches!(page.state(), CallState::Live { .. }));
}

#[test]
fn start_while_the_warm_call_is_still_dialling_goes_live_when_it_opens() {
    let mut page = Page::ready();
    let effects = page.input(Input::Started { key: KEY.into() });
    assert_eq!(
        effects,
        [
            Effect::SendMic,
            Effect::Play,
            Effect::StartRecorder { key: KEY.into() }
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
        sent(&effects),
        [
            &turn_detection(false),
            &ClientEvent::ResponseCreate { response: None }
        ]
    );
    assert!(effects.contains(&Effect::Live));
    assert!(matches!(page.state(), CallState::Live { .. }));
}

#[test]
fn nothing_reaches_the_coach_before_start_and_push_to_talk_keeps_turn_detection_off() {
    let mut page = Page::ready();
    let mut before = page.command(Command::SetPushToTalk(true));
    before.extend(page.input(Input::Answered {
        generation: 0,
        result: Ok(()),
    }));
    before.extend(page.input(Input::Opened { generation: 0 }));
    before.extend(page.server(json!({"type": "session.created",
        "session": {"type": "realtime"}})));
    assert!(before.contains(&Effect::MicOpen(false)));
    assert_eq!(
        sent(&before),
        [] as [&ClientEvent; 0],
        "nothing sent before Start"
    );
    assert!(!before.contains(&Effect::SendMic));
    let effects = page.input(Input::Started { key: KEY.into() });
    assert_eq!(
        sent(&effects),
        [
            &turn_detection(true),
            &ClientEvent::ResponseCreate { response: None }
        ]
    );
    assert!(
        effects.contains(&Effect::MicOpen(false)),
        "held shut until pressed"
    );
}

#[test]
fn without_a_warm_call_start_makes_the_call_with_the_secret_from_the_check() {
    let mut page = Page::ready().cold();
    let effects = page.input(Input::Started { key: KEY.into() });
    assert_eq!(
        effects,
        [
            Effect::MakePeer {
                generation: 1,
                mic: true
            },
            Effect::StartRecorder { key: KEY.into() },
            Effect::Connect {
                generation: 1,
                secret: secret(600.0)
            },
        ]
    );
    assert_eq!(page.state(), &CallState::Connecting);
    page.input(Input::Answered {
        generation: 1,
        result: Ok(()),
    });
    let effects = page.input(Input::Opened { generation: 1 });
    assert_eq!(
        sent(&effects),
        [
            &turn_detection(false),
            &ClientEvent::ResponseCreate { response: None }
        ]
    );
    assert!(matches!(page.state(), CallState::Live { .. }));
}

#[test]
fn a_warm_call_that_fails_drops_or_stalls_leaves_the_page_ready_and_cold() {
    // Dropped while waiting for Start.
    let mut page = Page::warm();
    let effects = page.input(Input::Lost {
        generation: 0,
        cause: DropCause::Network,
    });
    assert_eq!(effects, [Effect::DropPeer]);
    assert_eq!(page.state(), &CallState::Ready);
    assert_eq!(page.session.problem(), None, "nothing to tell the learner");
    let effects = page.input(Input::Started { key: KEY.into() });
    assert!(effects.contains(&Effect::MakePeer {
        generation: 1,
        mic: true
    }));
    assert!(effects.contains(&Effect::Connect {
        generation: 1,
        secret: secret(600.0)
    }));

    // Answered, but its channel never opened.
    let mut page = Page::ready();
    page.input(Input::Answered {
        generation: 0,
        result: Ok(()),
    });
    let effects = page
        .wait(10_000)
        .input(Input::Timer(Timer::ConnectTimeout { generation: 0 }));
    assert_eq!(effects, [Effect::DropPeer]);
    assert_eq!(page.session.warm(), Warm::Cold);
    // Its late opening is the old call's: ignored.
    assert!(page.input(Input::Opened { generation: 0 }).is_empty());
    assert_eq!(page.session.warm(), Warm::Cold);

    // A refused secret is replaced once, and the new warm call dialled with it.
    let mut page = Page::ready();
    let effects = page.input(Input::Answered {
        generation: 0,
        result: Err(ConnectError::Unauthorized),
    });
    assert_eq!(effects, [Effect::DropPeer, Effect::Mint { generation: 1 }]);
    assert_eq!(
        page.session.session_key(),
        None,
        "still the pre-call check's"
    );
    let effects = page.input(Input::Minted {
        generation: 1,
        result: Ok(secret(650.0)),
    });
    assert_eq!(
        effects[..2],
        [
            Effect::MakePeer {
                generation: 1,
                mic: false
            },
            Effect::Connect {
                generation: 1,
                secret: secret(650.0)
            }
        ]
    );
    // Refused again: no more renewing before Start, which mints its own.
    let effects = page.input(Input::Answered {
        generation: 1,
        result: Err(ConnectError::Unauthorized),
    });
    assert_eq!(effects, [Effect::DropPeer]);
    let effects = page.input(Input::Started { key: KEY.into() });
    assert!(effects.contains(&Effect::Mint { generation: 2 }));
}

#[test]
fn a_warm_call_is_closed_before_its_secret_expires_and_replaced_at_most_twice() {
    let mut page = Page::warm();
    let mut generation = 0;
    for replaced in 1..Session::WARM_CALLS {
        let effects = page
            .wait(570_000)
            .input(Input::Timer(Timer::WarmExpiry { generation }));
        generation += 1;
        assert_eq!(
            effects,
            [Effect::DropPeer, Effect::Mint { generation }],
            "replacement {replaced}"
        );
        // A page that left meanwhile would have held nothing; this one gets a new call.
        let effects = page.input(Input::Minted {
            generation,
            result: Ok(secret(page.now.unix_secs - OPENED + 600.0)),
        });
        assert!(
            effects.contains(&Effect::MakePeer {
                generation,
                mic: false
            }),
            "replacement {replaced}"
        );
        // Closed 30 s before its secret (600 s from now, to the second) expires.
        let expiry = timers(&effects);
        assert!(
            matches!(expiry[..], [(Timer::WarmExpiry { generation: g }, ms)]
                if g == generation && (569_000..=570_000).contains(&ms)),
            "{expiry:?}"
        );
        page.input(Input::Answered {
            generation,
            result: Ok(()),
        });
        page.input(Input::Opened { generation });
        assert_eq!(page.session.warm(), Warm::Open);
    }
    // The last one is closed and not replaced: the page waits, holding no call.
    let effects = page
        .wait(570_000)
        .input(Input::Timer(Timer::WarmExpiry { generation }));
    assert_eq!(effects, [Effect::DropPeer]);
    assert_eq!(page.state(), &CallState::Ready);
    // Start then makes the call, with a fresh secret (the last is 30 s from expiring).
    let effects = page.input(Input::Started { key: KEY.into() });
    assert_eq!(
        effects,
        [
            Effect::MakePeer {
                generation: generation + 1,
                mic: true
            },
            Effect::StartRecorder { key: KEY.into() },
            Effect::Mint {
                generation: generation + 1
            },
        ]
    );
    assert_eq!(page.session.session_key(), Some(KEY));
}

#[test]
fn start_while_the_next_warm_secret_is_minted_makes_the_call_with_it() {
    let mut page = Page::warm();
    page.wait(570_000)
        .input(Input::Timer(Timer::WarmExpiry { generation: 0 }));
    let effects = page.input(Input::Started { key: KEY.into() });
    assert_eq!(
        effects,
        [
            Effect::MakePeer {
                generation: 1,
                mic: true
            },
            Effect::StartRecorder { key: KEY.into() },
        ],
        "one secret on its way is enough"
    );
    let effects = page.input(Input::Minted {
        generation: 1,
        result: Ok(secret(1_200.0)),
    });
    assert_eq!(
        effects,
        [Effect::Connect {
            generation: 1,
            secret: secret(1_200.0)
        }]
    );
}

#[test]
fn a_late_answer_to_a_failed_checks_warm_call_is_not_taken_for_the_next_ones() {
    let mut page = Page::ready();
    // The microphone stops while the warm call is still being answered: the check fails.
    page.input(Input::MicEnded);
    assert_eq!(page.state(), &CallState::Failed(CallFailure::NoMic));
    // Try again: a new check, a new warm call.
    page.input(Input::Released);
    page.input(Input::CheckStarted { supported: true });
    page.input(Input::MicOpened);
    let generation = page.generation();
    let effects = page.input(Input::Minted {
        generation,
        result: Ok(secret(600.0)),
    });
    assert!(effects.contains(&Effect::MakePeer {
        generation,
        mic: false
    }));
    // The first warm call's offer, answered at last (refused: its peer is gone).
    let effects = page.input(Input::Answered {
        generation: 0,
        result: Err(ConnectError::Failed),
    });
    assert_eq!(effects, [], "the old call's answer");
    assert_eq!(page.session.warm(), Warm::Dialing);
    page.input(Input::Answered {
        generation,
        result: Ok(()),
    });
    page.input(Input::Opened { generation });
    assert_eq!(page.session.warm(), Warm::Open);
}

#[test]
fn checking_again_when_ready_closes_the_warm_call_first() {
    let mut page = Page::warm();
    let effects = page.input(Input::CheckStarted { supported: true });
    assert_eq!(
        effects,
        [
            Effect::DropPeer,
            Effect::OpenOutbox,
            Effect::OpenMic,
            Effect::Mint { generation: 1 }
        ]
    );
    assert_eq!(page.session.warm(), Warm::Cold);
}

#[test]
fn a_secret_about_to_expire_is_replaced_before_connecting_and_a_401_renews_it_once() {
    // Minted with 60 s to live and no warm call; the learner reads the topic for 40 s, leaving
    // less than the margin.
    let mut page = Page::ready_with(60.0).cold();
    let effects = page.wait(40_000).input(Input::Started { key: KEY.into() });
    assert!(effects.contains(&Effect::Mint { generation: 1 }));
    assert!(!effects.iter().any(|e| matches!(e, Effect::Connect { .. })));
    let effects = page.input(Input::Minted {
        generation: 1,
        result: Ok(secret(700.0)),
    });
    assert_eq!(
        effects,
        [Effect::Connect {
            generation: 1,
            secret: secret(700.0)
        }]
    );
    // That fresh one is refused too: nothing more to renew, the learner is told.
    page.input(Input::Answered {
        generation: 1,
        result: Err(ConnectError::Unauthorized),
    });
    assert_eq!(
        page.state(),
        &CallState::Failed(CallFailure::CoachUnavailable)
    );
    assert_eq!(page.session.problem(), Some(&Problem::SecretExpired));

    // A secret that looked fresh but is refused at Start (revoked, clock skew) is renewed once.
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
