//! The call page's view without a framework. The server renders every panel of the page
//! (`pages::practice`), each part this code changes marked `data-call="{name}"`; this shows,
//! hides and fills them from the page's state, and wires the controls. A redraw is asked for by
//! every change of state (`redraw_soon`) and done once, after the task that changed it.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use wasm_bindgen::{JsCast, prelude::Closure};
use web_sys::{Document, Element, HtmlElement, HtmlInputElement, HtmlSelectElement};

use super::{Practice, controller};
use crate::domain::{
    Topic,
    call::{CallFailure, CallState},
    practice::{clock, words_used},
    saving::SaveTrouble,
    session::{Command, Input},
    transcript::{Speaker, Turn, TurnState},
};

thread_local! {
    static PAGE: Cell<Option<Practice>> = const { Cell::new(None) };
    static REDRAW: Cell<bool> = const { Cell::new(false) };
    static DRAWN: RefCell<Drawn> = RefCell::new(Drawn::default());
}

/// What the view has drawn and keeps between redraws: the transcript's bubbles (each with the
/// turn it shows), the microphone list, whether the transcript follows new turns, and the
/// failure's countdown.
#[derive(Default)]
struct Drawn {
    bubbles: HashMap<String, (Element, Turn)>,
    inputs: Vec<(String, String)>,
    following: bool,
    countdown: Option<(CallFailure, u64, Option<crate::browser::Interval>)>,
    /// The summary was asked for (after End, once the session is saved).
    leaving: bool,
}

fn document() -> Option<Document> {
    web_sys::window()?.document()
}

/// Every element marked `data-call="{name}"`.
fn all(name: &str) -> Vec<Element> {
    let Some(found) = document().and_then(|document| {
        document
            .query_selector_all(&format!("[data-call=\"{name}\"]"))
            .ok()
    }) else {
        return Vec::new();
    };
    (0..found.length())
        .filter_map(|index| found.item(index)?.dyn_into::<Element>().ok())
        .collect()
}

fn one(name: &str) -> Option<Element> {
    document()?
        .query_selector(&format!("[data-call=\"{name}\"]"))
        .ok()
        .flatten()
}

fn text(name: &str, value: &str) {
    for element in all(name) {
        if element.text_content().as_deref() != Some(value) {
            element.set_text_content(Some(value));
        }
    }
}

fn show(name: &str, shown: bool) {
    for element in all(name) {
        if element.has_attribute("hidden") == shown {
            let _ = element.toggle_attribute_with_force("hidden", !shown);
        }
    }
}

fn attr(name: &str, attribute: &str, value: &str) {
    for element in all(name) {
        if element.get_attribute(attribute).as_deref() != Some(value) {
            let _ = element.set_attribute(attribute, value);
        }
    }
}

fn enable(name: &str, enabled: bool) {
    for element in all(name) {
        if element.has_attribute("disabled") == enabled {
            let _ = element.toggle_attribute_with_force("disabled", !enabled);
        }
    }
}

/// Sets `class` to `base` and one of two sets of classes.
fn tone(name: &str, base: &str, which: &str) {
    attr(name, "class", &format!("{base} {which}"));
}

fn listen<E: wasm_bindgen::convert::FromWasmAbi + 'static>(
    target: &web_sys::EventTarget,
    event: &str,
    f: impl FnMut(E) + 'static,
) {
    let closure = Closure::<dyn FnMut(E)>::new(f);
    let _ = target.add_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
    // The page's listeners live as long as the page.
    closure.forget();
}

fn on(name: &str, event: &str, f: impl Fn() + Clone + 'static) {
    for element in all(name) {
        let f = f.clone();
        listen::<web_sys::Event>(&element, event, move |_| f());
    }
}

/// Asks for a redraw after the current task (many changes, one redraw).
pub(super) fn redraw_soon() {
    if REDRAW.replace(true) {
        return;
    }
    wasm_bindgen_futures::spawn_local(async {
        REDRAW.set(false);
        if let Some(p) = PAGE.get() {
            redraw(p);
        }
    });
}

/// Reads the topic and the learner the server put in the page, wires the controls and starts the
/// check.
pub(super) fn mount() {
    let Some(data) = one("page").and_then(|page| page.get_attribute("data-props")) else {
        return;
    };
    let Ok((topic, owner)) = serde_json::from_str::<(Topic, String)>(&data) else {
        crate::console_warn!("the call page's data could not be read");
        return;
    };
    let p = Practice::new(topic, owner);
    PAGE.set(Some(p));
    DRAWN.with_borrow_mut(|drawn| drawn.following = true);
    let send = move |command: Command| controller::command(p, command);
    on("start", "click", move || send(Command::Start));
    on("end", "click", move || send(Command::End));
    on("retry", "click", move || send(Command::Check));
    on("mute", "click", move || {
        send(Command::SetMuted(!p.muted.get()))
    });
    for element in all("push-to-talk") {
        listen::<web_sys::Event>(&element.clone().into(), "change", move |_| {
            let on = element
                .dyn_ref::<HtmlInputElement>()
                .is_some_and(HtmlInputElement::checked);
            send(Command::SetPushToTalk(on));
        });
    }
    on("hold", "pointerdown", move || send(Command::Hold));
    for event in ["pointerup", "pointerleave", "pointercancel"] {
        on("hold", event, move || send(Command::LetGo));
    }
    on("use-input", "click", move || {
        let chosen = one("inputs")
            .and_then(|select| select.dyn_into::<HtmlSelectElement>().ok())
            .map(|select| select.value())
            .unwrap_or_default();
        attr("use-input", "data-busy", "true");
        send(Command::UseInput(chosen));
    });
    on("look-again", "click", move || send(Command::ListInputs));
    if let Some(log) = one("transcript") {
        let watched = log.clone();
        listen::<web_sys::Event>(&log.into(), "scroll", move |_| {
            let bottom = watched.scroll_top() + watched.client_height();
            let following = bottom >= watched.scroll_height() - 48;
            DRAWN.with_borrow_mut(|drawn| drawn.following = following);
        });
    }
    let Some(window) = web_sys::window() else {
        return;
    };
    // Space holds to talk, unless typing or on a button.
    let typing = |event: &web_sys::KeyboardEvent| {
        event
            .target()
            .and_then(|target| target.dyn_into::<Element>().ok())
            .is_some_and(|element| {
                matches!(element.tag_name().as_str(), "INPUT" | "TEXTAREA" | "BUTTON")
            })
    };
    listen(&window, "keydown", move |event: web_sys::KeyboardEvent| {
        if event.code() == "Space" && p.push_to_talk.get() && !typing(&event) {
            event.prevent_default();
            if !event.repeat() {
                send(Command::Hold);
            }
        }
    });
    listen(&window, "keyup", move |event: web_sys::KeyboardEvent| {
        if event.code() == "Space" && p.push_to_talk.get() {
            send(Command::LetGo);
        }
    });
    // Leaving (a page load, as every navigation here is) stops everything; what was recorded and
    // not yet sent waits in the outbox for the next page to recover. A page kept in the
    // back-forward cache is only frozen: it takes up where it was.
    listen(
        &window,
        "pagehide",
        move |event: web_sys::PageTransitionEvent| {
            if !event.persisted() {
                controller::dispatch(p, Input::Left);
            }
        },
    );
    send(Command::Check);
}

fn redraw(p: Practice) {
    let state = p.state.get();
    if let Some(id) = p.finished.get()
        && !DRAWN.with_borrow_mut(|drawn| std::mem::replace(&mut drawn.leaving, true))
        && let Some(window) = web_sys::window()
    {
        // Saved after End: on to the summary.
        let _ = window.location().assign(&format!("/practice/{id}"));
    }
    status(p, &state);
    let in_call = matches!(
        state,
        CallState::Connecting | CallState::Live { .. } | CallState::Reconnecting { .. }
    );
    show(
        "check",
        !in_call && !matches!(state, CallState::Ended | CallState::Failed(_)),
    );
    show("live", in_call);
    show("ended", state == CallState::Ended);
    show("failure", matches!(state, CallState::Failed(_)));
    check(p, &state);
    // One list of words: beside the check, then beside the conversation.
    if let (Some(words), Some(slot)) = (
        one("words"),
        one(if in_call { "live-words" } else { "check-words" }),
    ) && words.parent_element().as_ref() != Some(&slot)
    {
        let _ = slot.append_child(&words);
    }
    words(p);
    if in_call {
        live(p, &state);
        controls(p, &state);
        transcript(p, &state);
    }
    match &state {
        CallState::Failed(failure) => failed(p, failure),
        CallState::Ended => ended(p),
        _ => {}
    }
    if !matches!(state, CallState::Failed(_)) {
        DRAWN.with_borrow_mut(|drawn| drawn.countdown = None);
    }
}

/// The status pill and the elapsed time.
fn status(p: Practice, state: &CallState) {
    let paused = p.mic_lost.get() && matches!(state, CallState::Live { .. });
    let (colours, dot) = match state {
        _ if p.mic_lost.get() => (
            "border-amber-300 bg-amber-50 text-amber-900",
            "bg-amber-500",
        ),
        CallState::Live { .. } => (
            "border-teal-200 bg-teal-50 text-teal-900",
            "bg-teal-600 motion-safe:animate-pulse",
        ),
        CallState::Reconnecting { .. } => (
            "border-amber-300 bg-amber-50 text-amber-900",
            "bg-amber-500",
        ),
        CallState::Connecting => ("border-stone-200 bg-white text-stone-700", "bg-amber-500"),
        CallState::Failed(_) => ("border-red-200 bg-red-50 text-red-800", "bg-red-600"),
        _ => ("border-stone-200 bg-white text-stone-700", "bg-stone-400"),
    };
    tone(
        "status",
        "inline-flex min-h-9 items-center gap-2 rounded-full border px-3 text-sm font-medium",
        colours,
    );
    tone("status-dot", "h-2.5 w-2.5 rounded-full", dot);
    text(
        "status-text",
        if paused {
            "Paused — no microphone"
        } else {
            state.label()
        },
    );
    let since = p.live_since.get();
    show("elapsed", since.is_some());
    if let Some(since) = since {
        let secs = ((p.clock.get() - since).max(0.0) / 1000.0) as u64;
        text("elapsed-clock", &clock(secs));
    }
}

/// The pre-call check: the microphone, its level, the coach, and Start.
fn check(p: Practice, state: &CallState) {
    let mic_ready = matches!(
        state,
        CallState::Ready
            | CallState::Checking {
                mic_ready: true,
                ..
            }
    );
    let coach_ready = matches!(
        state,
        CallState::Ready
            | CallState::Checking {
                secret_ready: true,
                ..
            }
    );
    for (name, done) in [("mic", mic_ready), ("coach", coach_ready)] {
        attr(
            &format!("{name}-row"),
            "data-done",
            if done { "true" } else { "false" },
        );
    }
    // -60 dBFS (silence) .. 0 dBFS (full scale) as 0..100 %.
    let level = p.mic_level.get().max(1e-6);
    let percent = ((20.0 * level.log10() + 60.0) / 60.0 * 100.0).clamp(0.0, 100.0) as u32;
    attr("meter", "aria-valuenow", &percent.to_string());
    for bar in all("meter-bar") {
        if let Some(bar) = bar.dyn_ref::<HtmlElement>() {
            let _ = bar.style().set_property("width", &format!("{percent}%"));
        }
    }
    let ready = *state == CallState::Ready;
    enable("start", ready);
    text(
        "start",
        if ready {
            "Start conversation"
        } else {
            "Getting ready…"
        },
    );
}

/// The topic's words, each ticked once the learner has said it.
fn words(p: Practice) {
    let used = p
        .transcript
        .with(|transcript| words_used(&p.topic.vocabulary, transcript));
    for (index, used) in used.iter().enumerate() {
        let name = format!("word-{index}");
        attr(&name, "data-used", if *used { "true" } else { "false" });
        text(&format!("{name}-note"), if *used { " (used)" } else { "" });
    }
    let count = used.iter().filter(|used| **used).count();
    text("words-count", &format!("{count} of {} used", used.len()));
}

/// Reconnecting, back, and the microphone that stopped.
fn live(p: Practice, state: &CallState) {
    match state {
        CallState::Reconnecting { attempt } => {
            show("reconnecting", true);
            text(
                "reconnecting-text",
                &format!(
                    "The connection dropped. Reconnecting… (attempt {attempt} of {})",
                    CallState::MAX_RECONNECTS
                ),
            );
        }
        _ => show("reconnecting", false),
    }
    show(
        "reconnected",
        p.back.get() && !matches!(state, CallState::Reconnecting { .. }),
    );
    let mic_lost = p.mic_lost.get();
    show("mic-lost", mic_lost);
    if !mic_lost || p.problem.with(Option::is_some) {
        attr("use-input", "data-busy", "false");
    }
    let busy = one("use-input").and_then(|button| button.get_attribute("data-busy"));
    let busy = busy.as_deref() == Some("true");
    enable("use-input", !busy);
    text(
        "use-input",
        if busy {
            "Connecting…"
        } else {
            "Use this microphone"
        },
    );
    let inputs = p.inputs.get();
    DRAWN.with_borrow_mut(|drawn| {
        if drawn.inputs == inputs {
            return;
        }
        if let (Some(select), Some(document)) = (one("inputs"), document()) {
            select.set_text_content(None);
            for (id, label) in &inputs {
                if let Ok(option) = document.create_element("option") {
                    let _ = option.set_attribute("value", id);
                    option.set_text_content(Some(label));
                    let _ = select.append_child(&option);
                }
            }
        }
        drawn.inputs = inputs;
    });
    attr(
        "live-call",
        "data-coach-heard",
        &p.coach_heard.get().to_string(),
    );
    attr(
        "live-call",
        "data-reconnects",
        &p.reconnects.get().to_string(),
    );
}

/// Mute, push-to-talk, End, and what saving says.
fn controls(p: Practice, state: &CallState) {
    let muted = p.muted.get();
    let push_to_talk = p.push_to_talk.get();
    let holding = p.holding.get();
    attr("mute", "aria-pressed", &muted.to_string());
    enable("mute", !push_to_talk);
    text("mute", if muted { "Unmute" } else { "Mute" });
    for toggle in all("push-to-talk") {
        if let Some(toggle) = toggle.dyn_ref::<HtmlInputElement>() {
            toggle.set_checked(push_to_talk);
        }
    }
    show("hold", push_to_talk);
    enable("hold", matches!(state, CallState::Live { .. }));
    attr("hold", "aria-pressed", &holding.to_string());
    text(
        "hold",
        if holding {
            "Listening… release to send"
        } else {
            "Hold to talk"
        },
    );
    let saving = p.session_id.with(Option::is_none) || p.saving.get() || p.pending_turns.get() > 0;
    text("saving", if saving { " · saving…" } else { " · saved" });
    // Saving trouble that lasts, or another problem (the mic-lost panel says its own).
    let problem = p.problem.get().filter(|_| !p.mic_lost.get());
    trouble(
        "call-trouble",
        "call-trouble",
        p.trouble.get(),
        problem.as_ref().map(|problem| problem.message()),
    );
}

/// Shows `shown` with the trouble saving, else the problem, in the page's one note about it
/// (moved into `slot`), or hides it.
fn trouble(shown: &str, slot: &str, trouble: Option<SaveTrouble>, problem: Option<&str>) {
    let message = trouble.map(SaveTrouble::message).or(problem);
    show(shown, message.is_some());
    if let (Some(note), Some(slot)) = (one("trouble"), one(slot))
        && note.parent_element().as_ref() != Some(&slot)
    {
        let _ = slot.append_child(&note);
    }
    text("trouble-text", message.unwrap_or(""));
    show("trouble-sign-in", trouble == Some(SaveTrouble::SignedOut));
}

/// The transcript as a chat, following new turns unless the learner has scrolled up to reread.
fn transcript(p: Practice, state: &CallState) {
    let Some(log) = one("transcript") else {
        return;
    };
    let template = one("turn-template").and_then(|template| {
        template
            .dyn_into::<web_sys::HtmlTemplateElement>()
            .ok()?
            .content()
            .first_element_child()
    });
    p.transcript.with(|transcript| {
        show("transcript-empty", transcript.turns().is_empty());
        text(
            "transcript-empty",
            if *state == CallState::Connecting {
                "Connecting you to your coach…"
            } else {
                "Your coach is about to say hello."
            },
        );
        DRAWN.with_borrow_mut(|drawn| {
            let mut changed = false;
            for turn in transcript.turns() {
                if let Some((_, last)) = drawn.bubbles.get(&turn.item_id)
                    && last == turn
                {
                    continue;
                }
                let Some(bubble) = drawn
                    .bubbles
                    .get(&turn.item_id)
                    .map(|(bubble, _)| bubble.clone())
                    .or_else(|| {
                        let bubble = template
                            .as_ref()?
                            .clone_node_with_deep(true)
                            .ok()?
                            .dyn_into::<Element>()
                            .ok()?;
                        log.append_child(&bubble).ok()?;
                        Some(bubble)
                    })
                else {
                    continue;
                };
                bubble_for(&bubble, turn);
                drawn
                    .bubbles
                    .insert(turn.item_id.clone(), (bubble, turn.clone()));
                changed = true;
            }
            if changed && drawn.following {
                log.set_scroll_top(log.scroll_height());
            }
        });
    });
}

/// Fills a bubble (the page's `turn-template`) with `turn`.
fn bubble_for(row: &Element, turn: &Turn) {
    let learner = turn.speaker == Speaker::Learner;
    let _ = row.set_attribute(
        "class",
        if learner {
            "flex justify-end"
        } else {
            "flex justify-start"
        },
    );
    let Some(bubble) = row.first_element_child() else {
        return;
    };
    let state = match turn.state {
        TurnState::InProgress => "InProgress",
        TurnState::Final => "Final",
        TurnState::Interrupted => "Interrupted",
        TurnState::TranscriptionFailed => "TranscriptionFailed",
    };
    let _ = bubble.set_attribute("data-speaker", if learner { "learner" } else { "coach" });
    let _ = bubble.set_attribute("data-state", state);
    let colours = if learner {
        "bg-teal-700 text-white"
    } else {
        "bg-stone-100 text-stone-900"
    };
    let faded = if turn.state == TurnState::InProgress {
        "opacity-70"
    } else {
        ""
    };
    let _ = bubble.set_attribute(
        "class",
        &format!("max-w-[85%] rounded-2xl px-4 py-3 {colours} {faded}"),
    );
    let words = match (turn.state, turn.text.is_empty()) {
        (TurnState::TranscriptionFailed, _) => {
            "We couldn't catch the words of this turn; the audio is kept."
        }
        (TurnState::InProgress, true) => "…",
        (TurnState::Interrupted, true) => "Cut off before you heard any of it.",
        (TurnState::Final, true) => "No words in this turn.",
        _ => turn.text.as_str(),
    };
    let note = match turn.state {
        TurnState::Interrupted => "· Interrupted",
        TurnState::TranscriptionFailed => "· Not transcribed",
        _ => "",
    };
    let italic = turn.state == TurnState::TranscriptionFailed
        || (turn.state != TurnState::InProgress && turn.text.is_empty());
    let part = |name: &str| {
        bubble
            .query_selector(&format!("[data-part=\"{name}\"]"))
            .ok()
            .flatten()
    };
    if let Some(who) = part("who") {
        who.set_text_content(Some(if learner { "You" } else { "Coach" }));
    }
    if let Some(element) = part("note") {
        element.set_text_content(Some(note));
    }
    if let Some(element) = part("text") {
        element.set_text_content(Some(words));
        let _ = element.set_attribute(
            "class",
            if italic {
                "mt-1 text-lg italic leading-relaxed"
            } else {
                "mt-1 text-lg leading-relaxed"
            },
        );
    }
}

/// After End, while the session is saved (then the summary opens).
fn ended(p: Practice) {
    let trouble_now = p.trouble.get();
    let problem = p.problem.get();
    let cancelled = trouble_now.is_none()
        && problem.is_none()
        && p.session_id.with(Option::is_none)
        && p.live_since.get().is_none();
    let saving = trouble_now.is_none() && problem.is_none() && !cancelled;
    trouble(
        "ended-trouble",
        "ended-trouble-note",
        trouble_now,
        problem.as_ref().map(|problem| problem.message()),
    );
    show("ended-cancelled", cancelled);
    show("ended-saving", saving);
}

/// What went wrong, in a learner's words, and the way forward.
fn failed(p: Practice, failure: &CallFailure) {
    let went_live = p.live_since.get().is_some();
    let problem = p.problem.get();
    text("failure-title", failure.title());
    text("failure-text", failure.advice(went_live, problem.as_ref()));
    // A session that was going on: it is saved, and there is no trying again.
    let lost = went_live
        && matches!(
            failure,
            CallFailure::ConnectionLost | CallFailure::LimitReached | CallFailure::CoachUnavailable
        );
    let retry = !lost
        && !matches!(
            failure,
            CallFailure::Unsupported | CallFailure::InsecureContext
        );
    show("retry", retry);
    let kept = p.kept.get();
    let trouble_now = p.trouble.get();
    show("failure-kept", lost && kept.is_some());
    show(
        "failure-saving",
        lost && kept.is_none() && trouble_now.is_none(),
    );
    trouble(
        "failure-trouble",
        "failure-trouble",
        trouble_now.filter(|_| lost && kept.is_none()),
        None,
    );
    show("summary-link", kept.is_some());
    if let Some(id) = kept {
        attr("summary-link", "href", &format!("/practice/{id}"));
    }
    // Seconds until the server takes another attempt, counted down here.
    let wait = DRAWN.with_borrow_mut(|drawn| {
        let fresh = drawn
            .countdown
            .as_ref()
            .is_none_or(|(counted, _, _)| counted != failure);
        if fresh {
            let secs = match failure {
                CallFailure::TooManyAttempts { retry_after_secs } => *retry_after_secs,
                _ => 0,
            };
            let ticking = (secs > 0).then(|| {
                crate::browser::Interval::new(1_000, move || {
                    DRAWN.with_borrow_mut(|drawn| {
                        // The interval stops when the page leaves the failure (in a redraw,
                        // never inside its own callback).
                        if let Some((_, left, _)) = drawn.countdown.as_mut() {
                            *left = left.saturating_sub(1);
                        }
                    });
                    redraw_soon();
                })
            });
            drawn.countdown = Some((failure.clone(), secs, ticking));
        }
        drawn.countdown.as_ref().map_or(0, |(_, left, _)| *left)
    });
    let waiting = matches!(failure, CallFailure::TooManyAttempts { .. });
    show("failure-wait", waiting);
    if waiting {
        text(
            "failure-wait",
            &match wait {
                0 => "You can try again now.".to_owned(),
                1 => "Please wait 1 second, then try again.".to_owned(),
                secs => format!("Please wait {secs} seconds, then try again."),
            },
        );
    }
    enable("retry", wait == 0);
    text(
        "retry",
        &match wait {
            0 => "Try again".to_owned(),
            secs => format!("Try again in {secs} s"),
        },
    );
}
