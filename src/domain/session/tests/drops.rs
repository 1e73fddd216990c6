//! What interrupts a call: a dropped connection (reconnected, or given up with the session
//! kept) and a microphone that stops.

use super::*;

/// A live call brought into some state, and its name.
type Setup = (&'static str, fn(&mut Page));

#[test]
fn a_drop_is_reconnected_in_every_state_of_a_live_call() {
    // Listening, the coach mid-sentence, the learner mid-sentence, the microphone lost.
    let setups: [Setup; 4] = [
        ("listening", |_| {}),
        ("coach speaking", |page| {
            page.server(json!({"type": "output_audio_buffer.started", "response_id": "resp_1"}));
            page.coach_says("coach_1", &["Hello", " there"]);
        }),
        ("learner speaking", |page| {
            page.server(json!({"type": "input_audio_buffer.speech_started",
                "item_id": "learner_1", "audio_start_ms": 500}));
        }),
        ("microphone lost", |page| {
            page.input(Input::MicEnded);
        }),
    ];
    for (name, setup) in setups {
        let mut page = Page::live();
        setup(&mut page);
        let effects = page.input(Input::Lost {
            generation: 0,
            cause: DropCause::Network,
        });
        assert_eq!(
            page.state(),
            &CallState::Reconnecting { attempt: 1 },
            "{name}"
        );
        assert!(effects.contains(&Effect::DropPeer), "{name}");
        assert_eq!(
            notes(&effects),
            [(CallNote::Dropped, Some(DropCause::Network), 0)]
        );
        assert_eq!(
            timers(&effects),
            [(Timer::Reconnect { generation: 1 }, 250)],
            "{name}"
        );
        // Nothing the lost call left open stays open.
        assert!(
            page.session
                .transcript()
                .turns()
                .iter()
                .all(|t| t.is_settled()),
            "{name}"
        );
        // The old call's late signals are ignored.
        assert!(
            page.input(Input::Lost {
                generation: 0,
                cause: DropCause::ChannelClosed
            })
            .is_empty()
        );
        let effects = page
            .wait(250)
            .input(Input::Timer(Timer::Reconnect { generation: 1 }));
        assert_eq!(effects, [Effect::DropPeer, Effect::Mint { generation: 2 }]);
        // The reconnection's secret is asked for the session, so its call time counts.
        assert_eq!(page.session.session_key(), Some(KEY), "{name}");
        let effects = page.input(Input::Minted {
            generation: 2,
            result: Ok(secret(600.0)),
        });
        assert_eq!(
            effects,
            [
                Effect::MakePeer {
                    generation: 2,
                    mic: true
                },
                Effect::Connect {
                    generation: 2,
                    secret: secret(600.0)
                }
            ]
        );
        page.input(Input::Answered {
            generation: 2,
            result: Ok(()),
        });
        let effects = page.input(Input::Opened { generation: 2 });
        assert_eq!(
            page.state(),
            &CallState::Live {
                coach_speaking: false
            },
            "{name}"
        );
        // The new call hears the conversation so far, is told to carry on, and answers.
        let sent: Vec<_> = effects
            .iter()
            .filter_map(|e| match e {
                Effect::Send(event) => Some(event),
                _ => None,
            })
            .collect();
        assert!(matches!(
            sent.last(),
            Some(ClientEvent::ResponseCreate { .. })
        ));
        assert!(
            sent.iter()
                .any(|e| matches!(e, ClientEvent::ItemCreate { item, .. }
            if item.role == "system"))
        );
        assert_eq!(
            notes(&effects),
            [(CallNote::Reconnected, Some(DropCause::Network), 1)]
        );
        assert!(page.session.back());
        assert_eq!(page.session.reconnects(), 1);
        page.input(Input::Timer(Timer::BackNotice));
        assert!(!page.session.back());
    }
}

#[test]
fn drops_before_and_after_a_call_are_not_reconnected() {
    // Connecting: a call that never came up failed to start.
    let mut page = Page::ready();
    page.input(Input::Started { key: KEY.into() });
    page.input(Input::Lost {
        generation: 0,
        cause: DropCause::Network,
    });
    assert_eq!(
        page.state(),
        &CallState::Failed(CallFailure::ConnectionLost)
    );
    // Ended: a drop after End changes nothing.
    let mut page = Page::live();
    page.command(Command::End);
    let effects = page.input(Input::Lost {
        generation: 0,
        cause: DropCause::Network,
    });
    assert!(effects.is_empty());
    assert_eq!(page.state(), &CallState::Ended);
    // Ready: the warm call dropped, nothing to carry on; the page stays ready, without it.
    let mut page = Page::ready();
    assert_eq!(
        page.input(Input::Lost {
            generation: 0,
            cause: DropCause::Network
        }),
        [Effect::DropPeer]
    );
    assert_eq!(page.state(), &CallState::Ready);
}

/// A live call in which the learner said something drops, and its first reconnection is refused
/// with `refusal`: there are no more attempts (waiting cannot lift it), and the call gave up.
fn reconnection_refused(refusal: MintError) -> (Page, Vec<Effect>) {
    let mut page = Page::live();
    let said = page.learner_says("learner_1", "I'd like a croissant");
    page.store(&said);
    page.input(Input::Lost {
        generation: 0,
        cause: DropCause::Network,
    });
    let generation = page.generation();
    page.input(Input::Timer(Timer::Reconnect { generation }));
    let generation = page.generation();
    let effects = page.input(Input::Minted {
        generation,
        result: Err(refusal),
    });
    assert!(
        !timers(&effects)
            .iter()
            .any(|(timer, _)| matches!(timer, Timer::Reconnect { .. })),
        "no more attempts: {effects:?}"
    );
    assert_eq!(
        notes(&effects),
        [(CallNote::GaveUp, Some(DropCause::Network), 1)]
    );
    (page, effects)
}

#[test]
fn a_reconnection_refused_for_a_limit_ends_the_call_at_once_and_keeps_its_session() {
    let why = "This session has reached its 30-minute limit. End it and start a new one to keep \
               practising.";
    let (mut page, effects) = reconnection_refused(MintError::Limit(why.into()));
    assert_eq!(effects.iter().filter(|e| **e == Effect::Release).count(), 1);
    assert_eq!(page.state(), &CallState::Failed(CallFailure::LimitReached));
    assert_eq!(CallFailure::LimitReached.title(), "You've reached a limit");
    assert_eq!(
        CallFailure::LimitReached.advice(true, page.session.problem()),
        why
    );
    // What was said is saved and the session ended, as for a call that could not come back.
    saves_the_turn_then_ends_and_keeps_the_session(&mut page);
}

#[test]
fn a_reconnection_refused_for_another_call_ends_at_once_with_the_servers_words() {
    let why = "You're already in a call with the coach in another tab or device. End that one \
               first.";
    let (mut page, _) = reconnection_refused(MintError::Conflict(why.into()));
    assert_eq!(
        page.state(),
        &CallState::Failed(CallFailure::ConnectionLost)
    );
    assert_eq!(
        CallFailure::ConnectionLost.advice(true, page.session.problem()),
        why
    );
    saves_the_turn_then_ends_and_keeps_the_session(&mut page);
}

#[test]
fn a_call_that_cannot_be_brought_back_keeps_its_session() {
    let mut page = Page::live();
    let said = page.learner_says("learner_1", "I'd like a croissant");
    let saving = page.store(&said);
    assert_eq!(saved_turns(&saving).len(), 1);
    page.server(
        json!({"type": "error", "error": {"type": "invalid_request_error",
        "code": "session_expired", "message": "Your session hit the maximum duration."}}),
    );
    assert_eq!(page.state(), &CallState::Reconnecting { attempt: 1 });
    let mut waits = Vec::new();
    for attempt in 1..=CallState::MAX_RECONNECTS {
        let generation = page.generation();
        let effects = page.input(Input::Timer(Timer::Reconnect { generation }));
        let generation = page.generation();
        assert_eq!(effects.last(), Some(&Effect::Mint { generation }));
        // Each kind of failure is one failed attempt.
        let effects = match attempt % 3 {
            0 => page.input(Input::Minted {
                generation,
                result: Err(MintError::Refused("down".into())),
            }),
            1 => page.input(Input::Answered {
                generation,
                result: Err(ConnectError::Timeout),
            }),
            _ => {
                page.input(Input::Minted {
                    generation,
                    result: Ok(secret(600.0)),
                });
                page.input(Input::Answered {
                    generation,
                    result: Ok(()),
                });
                page.input(Input::Timer(Timer::ConnectTimeout { generation }))
            }
        };
        waits.extend(
            timers(&effects)
                .into_iter()
                .filter_map(|(timer, ms)| matches!(timer, Timer::Reconnect { .. }).then_some(ms)),
        );
        if attempt == CallState::MAX_RECONNECTS {
            assert_eq!(
                notes(&effects),
                [(CallNote::GaveUp, Some(DropCause::SessionExpired), attempt)]
            );
            assert!(effects.contains(&Effect::Release));
        }
    }
    assert_eq!(waits, [1_000, 2_000, 4_000, 8_000]);
    assert_eq!(
        page.state(),
        &CallState::Failed(CallFailure::ConnectionLost)
    );
    // What was said is saved and the session ended: the failure panel links to it.
    saves_the_turn_then_ends_and_keeps_the_session(&mut page);
}

/// For a call that ended without End and whose learner turn `learner_1` is not saved yet: once
/// the call's gear is released, the turn is saved, then the session ended, and the page keeps
/// the session (the failure panel links to it) without moving on to a summary.
fn saves_the_turn_then_ends_and_keeps_the_session(page: &mut Page) {
    assert!(
        page.input(Input::Released).is_empty(),
        "the turn is still being saved"
    );
    let effects = page.input(Input::TurnSaved {
        item_id: "learner_1".into(),
        result: Ok(()),
    });
    assert!(matches!(
        effects[..],
        [Effect::ForgetTurn { .. }, Effect::EndSession { .. }]
    ));
    let effects = page.input(Input::EndSaved { result: Ok(()) });
    assert_eq!(effects, [Effect::Discard]);
    assert_eq!(page.session.saves().kept(), Some(SESSION));
    assert_eq!(page.session.saves().finished(), None);
}

#[test]
fn a_lost_microphone_pauses_the_call_until_another_is_chosen() {
    let mut page = Page::live();
    let effects = page.input(Input::MicEnded);
    assert_eq!(
        effects,
        [
            Effect::Note {
                session: SESSION.into(),
                what: CallNote::MicLost,
                cause: None,
                attempt: 0
            },
            Effect::ListInputs
        ]
    );
    assert!(page.session.talk().mic_lost);
    assert!(
        matches!(page.state(), CallState::Live { .. }),
        "the call goes on"
    );
    // Said once, however many times the browser says it.
    assert!(page.input(Input::MicEnded).is_empty());
    assert_eq!(
        page.command(Command::UseInput("usb-mic".into())),
        [Effect::SwitchMic {
            device: "usb-mic".into()
        }]
    );
    let effects = page.input(Input::MicSwitched { ok: false });
    assert_eq!(effects, [Effect::ListInputs]);
    assert_eq!(page.session.problem(), Some(&Problem::MicWontOpen));
    page.command(Command::SetMuted(true));
    let effects = page.input(Input::MicSwitched { ok: true });
    assert_eq!(notes(&effects), [(CallNote::MicBack, None, 0)]);
    assert_eq!(effects.last(), Some(&Effect::MicOpen(false)), "still muted");
    assert!(!page.session.talk().mic_lost);
    assert_eq!(page.session.problem(), None);

    // Before the call, a microphone that stops is no microphone.
    let mut page = Page::ready();
    page.input(Input::MicEnded);
    assert_eq!(page.state(), &CallState::Failed(CallFailure::NoMic));
}

#[test]
fn a_pre_call_check_refused_for_a_limit_says_which_and_offers_to_try_again() {
    let mut page = Page::new();
    page.input(Input::CheckStarted { supported: true });
    page.input(Input::MicOpened);
    let why = "You already have 2 sessions going. End them, or recover them from History, before \
               you start another.";
    let effects = page.input(Input::Minted {
        generation: 0,
        result: Err(MintError::Limit(why.into())),
    });
    assert!(
        effects.contains(&Effect::Release),
        "the microphone is let go"
    );
    assert_eq!(page.state(), &CallState::Failed(CallFailure::LimitReached));
    assert_eq!(
        CallFailure::LimitReached.advice(false, page.session.problem()),
        why
    );
    // Once the learner ended the other sessions, Try again checks afresh.
    let effects = page.input(Input::CheckStarted { supported: true });
    assert!(
        effects.iter().any(|e| matches!(e, Effect::Mint { .. })),
        "{effects:?}"
    );
}
