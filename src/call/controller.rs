//! The browser shell of a practice call. Every decision is the session model's
//! (`domain::session`): the shell feeds it what happens (`dispatch`), runs the effects it asks for
//! (`run`), and copies what the view shows into the page's signals (`show`). Browser only.
//!
//! Rules that keep it sound: inputs are queued and handled one at a time (an effect that reports
//! back synchronously waits its turn); browser objects are never dropped inside their own
//! callbacks (they are moved into a task and dropped there); and everything that may outlive the
//! page reaches it only through `try_` accessors (a page that is gone ignores it).

mod media;
mod peer;
mod saves;

use std::collections::{BTreeMap, HashMap, VecDeque};

use realtime_protocol::ClientEvent;
use wasm_bindgen_futures::spawn_local;
use web_sys::Blob;

use super::{Practice, state::Shown};
use crate::{
    browser::{
        Interval, Timeout,
        call::Peer,
        calls_supported,
        mic::{LevelMeter, Microphone},
        outbox::{Attempt, Held, Outbox},
        random_uuid, timing,
    },
    domain::session::{Command, Effect, Input, Now, Session, Timer},
};

/// The session model and the inputs waiting for it.
pub struct Model {
    session: Session,
    queue: VecDeque<Input>,
    busy: bool,
    /// The transcript version the view shows.
    shown_transcript: u32,
}

impl Model {
    pub fn new(vocabulary: Vec<String>) -> Self {
        Model {
            session: Session::new(vocabulary),
            queue: VecDeque::new(),
            busy: false,
            shown_transcript: 0,
        }
    }
}

/// The browser objects of one practice page.
#[derive(Default)]
pub struct Gear {
    mic: Option<Microphone>,
    meter: Option<LevelMeter>,
    peer: Option<Peer>,
    /// The coach's voice of the current call, for the recorder that starts at Start (a warm
    /// call's arrives before).
    coach_stream: Option<web_sys::MediaStream>,
    recorder: Option<crate::browser::recorder::Recorder>,
    /// The browser's durable copy of unsent chunks and turns (`None` where IndexedDB is
    /// unavailable: then they live in page memory only).
    outbox: Option<std::rc::Rc<Outbox>>,
    /// This recording, as the outbox remembers it, and the lock that tells recovery it is live.
    attempt: Option<Attempt>,
    lock: Option<Held>,
    /// Recorded chunks not yet acknowledged by the server, by sequence.
    chunks: BTreeMap<u32, Blob>,
    next_sequence: u32,
    meter_timer: Option<Interval>,
    clock_timer: Option<Interval>,
    audio_watch: Option<Interval>,
    /// The model's timers, cancelled when the page goes (one of each: asking again restarts it).
    timers: HashMap<Timer, Timeout>,
}

/// The key of the session the call is for, once Start was pressed.
fn session_key(p: Practice) -> Option<String> {
    p.model
        .with(|model| model.session.session_key().map(str::to_owned))
        .flatten()
}

/// The page's topic slug.
fn slug(p: Practice) -> String {
    p.topic.slug.as_str().to_owned()
}

fn now() -> Now {
    Now {
        ms: timing::now(),
        unix_secs: js_sys::Date::now() / 1000.0,
    }
}

/// What the learner asked for.
pub fn command(p: Practice, command: Command) {
    let input = match command {
        Command::Check => {
            timing::mark(timing::CHECK);
            Input::CheckStarted {
                supported: calls_supported(),
            }
        }
        Command::Start => {
            timing::mark(timing::START);
            p.coach_heard.set(false);
            Input::Started {
                key: random_uuid().unwrap_or_default(),
            }
        }
        command => Input::Command(command),
    };
    dispatch(p, input);
}

/// Hands `input` to the model and runs what it asks for; inputs that arrive meanwhile (from an
/// effect that reports back at once) are handled next, in order.
pub(super) fn dispatch(p: Practice, input: Input) {
    let first = p.model.update(|model| {
        model.queue.push_back(input);
        !std::mem::replace(&mut model.busy, true)
    });
    if first != Some(true) {
        return;
    }
    loop {
        let effects = p
            .model
            .update(|model| {
                let input = model.queue.pop_front()?;
                let ignored = model.session.ignored();
                model.session.handle(now(), input);
                if cfg!(debug_assertions) && model.session.ignored() != ignored {
                    crate::console_warn!("call input ignored while {:?}", model.session.state());
                }
                Some(std::iter::from_fn(|| model.session.poll()).collect::<Vec<_>>())
            })
            .flatten();
        let Some(effects) = effects else {
            break;
        };
        for effect in effects {
            run(p, effect);
        }
    }
    p.model.update(|model| model.busy = false);
    show(p);
}

/// Dispatches `input` from a task of its own: for browser callbacks, whose objects the input
/// may let go of.
pub(super) fn later(p: Practice, input: Input) {
    spawn_local(async move { dispatch(p, input) });
}

fn run(p: Practice, effect: Effect) {
    match effect {
        Effect::OpenOutbox => saves::open_outbox(p),
        Effect::OpenMic => media::open_mic(p),
        Effect::SwitchMic { device } => media::switch_mic(p, device),
        Effect::ListInputs => media::list_inputs(p),
        Effect::MicOpen(open) => {
            p.gear.with(|gear| {
                if let Some(mic) = gear.mic.as_ref() {
                    mic.set_muted(!open);
                }
            });
        }
        Effect::StartRecorder { key } => media::start_recorder(p, key),
        Effect::Release => media::release(p),
        Effect::Mint { generation } => peer::mint(p, generation),
        Effect::MakePeer { generation, mic } => peer::make(p, generation, mic),
        Effect::SendMic => peer::send_mic(p),
        Effect::Play => peer::play(p),
        Effect::Connect { generation, secret } => peer::connect(p, generation, secret),
        Effect::DropPeer => peer::drop_peer(p),
        Effect::Send(event) => {
            p.gear.with(|gear| {
                if let Some(peer) = gear.peer.as_ref() {
                    peer.send(&event);
                }
            });
            if matches!(event, ClientEvent::ResponseCreate { .. }) {
                timing::mark_once(timing::GREETING);
            }
        }
        Effect::Live => media::live(p),
        Effect::Register { key } => saves::register(p, key),
        Effect::NoteSession { session } => saves::note_session(p, session),
        Effect::StoreTurn(turn) => saves::store_turn(p, turn),
        Effect::SaveTurn { session, turn } => saves::save(p, session, turn),
        Effect::ForgetTurn { item_id } => saves::forget_turn(p, item_id),
        Effect::Upload { session, sequence } => saves::upload(p, session, sequence),
        Effect::ForgetChunk { sequence } => saves::forget_chunk(p, sequence),
        Effect::EndSession {
            session,
            turns,
            words,
        } => saves::end(p, session, turns, words),
        Effect::Discard => saves::discard(p),
        Effect::Note {
            session,
            what,
            cause,
            attempt,
        } => saves::note(session, what, cause, attempt),
        Effect::Timer { timer, after_ms } => {
            let fired = timer.clone();
            // Dispatched from a task of its own: what it causes may restart this very timer.
            let timeout = Timeout::new(after_ms, move || later(p, Input::Timer(fired)));
            p.gear.update(|gear| gear.timers.insert(timer, timeout));
        }
        Effect::Teardown => {
            let gear = p.gear.update(std::mem::take);
            drop(gear);
        }
    }
}

/// Copies what the view shows from the model into the page (only what changed).
fn show(p: Practice) {
    fn put<T: PartialEq + Clone>(shown: &Shown<T>, value: T) {
        if shown.with(|shown| *shown != value) {
            shown.set(value);
        }
    }
    p.model.update(|model| {
        let session = &model.session;
        let saves = session.saves();
        let talk = session.talk();
        put(&p.state, session.state().clone());
        if model.shown_transcript != session.transcript_version() {
            p.transcript.set(session.transcript().clone());
        }
        put(&p.muted, talk.muted);
        put(&p.push_to_talk, talk.push_to_talk);
        put(&p.holding, talk.holding);
        put(&p.mic_lost, talk.mic_lost);
        put(&p.live_since, session.live_since());
        put(&p.problem, session.problem().cloned());
        put(&p.session_id, saves.session().map(str::to_owned));
        put(&p.trouble, saves.trouble());
        put(&p.finished, saves.finished().map(str::to_owned));
        put(&p.kept, saves.kept().map(str::to_owned));
        put(&p.saving, saves.unsent_chunks() > 0);
        put(&p.pending_turns, saves.pending_turns());
        put(&p.reconnects, session.reconnects());
        put(&p.back, session.back());
        model.shown_transcript = model.session.transcript_version();
    });
}
