//! Saving what a call produces: the session row (made once the call is up), each settled turn,
//! each recording chunk in order, and the end. Each piece goes to the outbox first, then to the
//! server, retried as `domain::saving` classes the failure (being signed out is waited out, never
//! a reason to drop anything). End waits for all of it before ending the session.

use std::collections::{BTreeMap, BTreeSet};

use super::{Effect, Input, Problem, Session, Timer, ending::WrapUp};
use crate::domain::{
    saving::{Backoff, Retry, SaveTrouble},
    transcript::SavedTurn,
};

/// After this many failures in a row a save the learner cannot see says it is waiting.
const SPEAK_UP_AFTER: u32 = 4;

/// One settled turn on its way to the server.
#[derive(Debug)]
struct TurnSave {
    turn: SavedTurn,
    /// In the outbox (or kept in memory only, where there is none).
    stored: bool,
    in_flight: bool,
    /// A newer version came while one was in flight: send again after it.
    again: bool,
    backoff: Backoff,
}

/// What is saved and what still waits.
#[derive(Debug, Default)]
pub struct Saves {
    pub(super) session: Option<String>,
    /// The session row is being made (`Some` until it is, or is refused).
    pub(super) registering: Option<Backoff>,
    register_waiting: bool,
    turns: BTreeMap<String, TurnSave>,
    /// Chunks made and not yet in the outbox.
    writing: u32,
    /// Chunks in the outbox, not yet acknowledged by the server.
    unsent: BTreeSet<u32>,
    /// The chunk being uploaded (one at a time, in order), and whether it waits to be retried.
    uploading: Option<u32>,
    chunk_waiting: bool,
    chunk_backoff: Backoff,
    pub(super) trouble: Option<SaveTrouble>,
    /// `Effect::Release` is under way.
    pub(super) releasing: bool,
    discard_when_released: bool,
    pub(super) wrap: Option<WrapUp>,
    pub(super) finished: Option<String>,
    pub(super) kept: Option<String>,
}

impl Saves {
    pub fn session(&self) -> Option<&str> {
        self.session.as_deref()
    }

    /// Why part of the session is not saved yet, while that lasts.
    pub fn trouble(&self) -> Option<SaveTrouble> {
        self.trouble
    }

    /// Settled turns not yet on the server.
    pub fn pending_turns(&self) -> usize {
        self.turns.len()
    }

    /// Recording chunks not yet on the server.
    pub fn unsent_chunks(&self) -> usize {
        self.unsent.len() + self.writing as usize
    }

    /// The session saved after End (the page moves to its summary).
    pub fn finished(&self) -> Option<&str> {
        self.finished.as_deref()
    }

    /// The session a call that could not be brought back left behind, once saved.
    pub fn kept(&self) -> Option<&str> {
        self.kept.as_deref()
    }

    /// Everything is on the server (the session row, every turn and chunk).
    pub fn all_saved(&self) -> bool {
        self.session.is_some() && self.turns.is_empty() && self.unsent_chunks() == 0
    }

    pub(super) fn raise(&mut self, trouble: SaveTrouble) {
        self.trouble = Some(SaveTrouble::over(trouble, self.trouble));
    }

    pub(super) fn settle(&mut self, trouble: SaveTrouble) {
        if self.trouble == Some(trouble) {
            self.trouble = None;
        }
    }

    pub(super) fn releasing(&mut self) {
        self.releasing = true;
    }

    pub(super) fn discard_when_released(&mut self) {
        self.discard_when_released = true;
    }
}

impl Session {
    pub(super) fn saving_input(&mut self, input: Input) {
        match input {
            Input::ChunkMade => self.saves.writing += 1,
            Input::ChunkStored { sequence } => {
                self.saves.writing = self.saves.writing.saturating_sub(1);
                self.saves.unsent.insert(sequence);
                self.upload();
            }
            Input::TurnStored { item_id } => {
                if let Some(save) = self.saves.turns.get_mut(&item_id) {
                    save.stored = true;
                }
                self.send_turn(&item_id);
            }
            Input::Registered { key, result } if key == self.key => self.registered(result),
            Input::TurnSaved { item_id, result } => self.turn_saved(item_id, result),
            Input::Uploaded { sequence, result } if self.saves.uploading == Some(sequence) => {
                self.uploaded(sequence, result)
            }
            Input::EndSaved { result } => self.end_saved(result),
            Input::Released => self.saves.releasing = false,
            Input::Timer(Timer::RetryRegister) if self.saves.register_waiting => {
                self.saves.register_waiting = false;
                self.push(Effect::Register {
                    key: self.key.clone(),
                });
            }
            Input::Timer(Timer::RetryTurn { item_id }) => self.send_turn(&item_id),
            Input::Timer(Timer::RetryChunk) if self.saves.chunk_waiting => {
                self.saves.chunk_waiting = false;
                self.saves.uploading = None;
                self.upload();
            }
            Input::Timer(Timer::RetryEnd) => self.retry_end(),
            Input::Timer(Timer::SlowSaving) => self.slow_saving(),
            _ => {}
        }
        self.after_saving();
    }

    /// What follows from any step of saving: a discarded attempt, or the wrap-up moving on.
    pub(super) fn after_saving(&mut self) {
        let quiet = !self.saves.releasing && self.saves.writing == 0;
        if self.saves.discard_when_released && quiet {
            self.saves.discard_when_released = false;
            self.saves.unsent.clear();
            self.push(Effect::Discard);
        }
        self.wrap_step();
    }

    /// What a failed save tells the learner: being signed out at once (they can act on it),
    /// other trouble (`waiting`) once it lasts.
    pub(super) fn speak_up(&mut self, retry: Retry, failures: u32, waiting: Option<SaveTrouble>) {
        if retry == Retry::Later {
            self.raise(SaveTrouble::SignedOut);
        } else if let Some(trouble) = waiting
            && failures >= SPEAK_UP_AFTER
        {
            self.raise(trouble);
        }
    }

    /// A request went through: whatever being signed out held back goes on.
    pub(super) fn went_through(&mut self) {
        self.saves.settle(SaveTrouble::SignedOut);
    }

    /// The call came up: the session row is made (retried for as long as the page lives; what
    /// is said and recorded meanwhile waits in the outbox).
    pub(super) fn register(&mut self) {
        self.saves.registering = Some(Backoff::default());
        self.push(Effect::Register {
            key: self.key.clone(),
        });
    }

    pub(super) fn registered(&mut self, result: Result<String, Retry>) {
        if self.saves.registering.is_none() {
            return;
        }
        match result {
            Ok(session) => {
                self.saves.registering = None;
                self.went_through();
                self.saves.settle(SaveTrouble::NotStarted);
                self.saves.session = Some(session.clone());
                self.push(Effect::NoteSession { session });
                let waiting: Vec<String> = self.saves.turns.keys().cloned().collect();
                for item_id in waiting {
                    self.send_turn(&item_id);
                }
                self.upload();
            }
            Err(retry) => {
                let backoff = self.saves.registering.get_or_insert_default();
                let (after, failures) = (backoff.wait_ms(retry), backoff.failures());
                self.speak_up(retry, failures, Some(SaveTrouble::NotStarted));
                match after {
                    Some(after) => {
                        self.saves.register_waiting = true;
                        self.timer(Timer::RetryRegister, after);
                    }
                    // Refused for good (an unknown topic, a key used for another one).
                    None => {
                        self.saves.registering = None;
                        self.problem = Some(Problem::NotRegistered);
                    }
                }
            }
        }
    }

    /// A settled turn: into the outbox first, then to the server once the session row exists.
    pub(super) fn persist_turn(&mut self, turn: SavedTurn) {
        self.push(Effect::StoreTurn(turn.clone()));
        match self.saves.turns.get_mut(&turn.item_id) {
            Some(save) => {
                save.again = save.in_flight;
                save.stored = false;
                save.turn = turn;
            }
            None => {
                self.saves.turns.insert(
                    turn.item_id.clone(),
                    TurnSave {
                        turn,
                        stored: false,
                        in_flight: false,
                        again: false,
                        backoff: Backoff::default(),
                    },
                );
            }
        }
    }

    pub(super) fn send_turn(&mut self, item_id: &str) {
        let Some(session) = self.saves.session.clone() else {
            return; // sent once the session row exists
        };
        let Some(save) = self.saves.turns.get_mut(item_id) else {
            return;
        };
        if !save.stored || save.in_flight {
            return;
        }
        save.in_flight = true;
        save.again = false;
        let turn = save.turn.clone();
        self.push(Effect::SaveTurn { session, turn });
    }

    pub(super) fn turn_saved(&mut self, item_id: String, result: Result<(), Retry>) {
        let Some(save) = self.saves.turns.get_mut(&item_id) else {
            return;
        };
        save.in_flight = false;
        let failed = match result {
            Ok(()) => {
                self.went_through();
                None
            }
            // Refused for good (or the session is gone): this one turn is given up.
            Err(Retry::Never | Retry::Gone) => None,
            Err(Retry::Full) => {
                self.raise(SaveTrouble::Full);
                None
            }
            Err(retry) => {
                let (after, failures) = (save.backoff.wait_ms(retry), save.backoff.failures());
                Some((retry, after, failures))
            }
        };
        match failed {
            None if self
                .saves
                .turns
                .get(&item_id)
                .is_some_and(|save| save.again) =>
            {
                self.send_turn(&item_id)
            }
            None => {
                self.saves.turns.remove(&item_id);
                self.push(Effect::ForgetTurn { item_id });
                if self.saves.turns.is_empty() {
                    self.saves.settle(SaveTrouble::TurnsWaiting);
                }
            }
            Some((retry, after, failures)) => {
                self.speak_up(retry, failures, Some(SaveTrouble::TurnsWaiting));
                if let Some(after) = after {
                    self.timer(Timer::RetryTurn { item_id }, after);
                }
            }
        }
    }

    /// Uploads the next chunk, in order, once the session row exists.
    pub(super) fn upload(&mut self) {
        let Some(session) = self.saves.session.clone() else {
            return;
        };
        if self.saves.uploading.is_some() {
            return;
        }
        if let Some(&sequence) = self.saves.unsent.first() {
            self.saves.uploading = Some(sequence);
            self.push(Effect::Upload { session, sequence });
        }
    }

    /// Chunk `sequence` is done with (stored, or given up): on to the next.
    fn chunk_settled(&mut self, sequence: u32) {
        self.saves.chunk_backoff.reset();
        self.saves.uploading = None;
        self.saves.unsent.remove(&sequence);
        self.push(Effect::ForgetChunk { sequence });
        self.upload();
    }

    pub(super) fn uploaded(&mut self, sequence: u32, result: Result<(), Retry>) {
        match result {
            Ok(()) => {
                self.went_through();
                self.chunk_settled(sequence);
            }
            // A chunk refused for good is given up (and logged by the shell); the rest still go.
            Err(Retry::Never) => self.chunk_settled(sequence),
            // One refused for a limit is too, and the learner is told.
            Err(Retry::Full) => {
                self.raise(SaveTrouble::Full);
                self.chunk_settled(sequence);
            }
            // The session was deleted meanwhile: its recording goes with it.
            Err(Retry::Gone) => {
                self.saves.uploading = None;
                self.saves.unsent.clear();
                self.push(Effect::Discard);
            }
            Err(retry) => {
                let backoff = &mut self.saves.chunk_backoff;
                let (after, failures) = (backoff.wait_ms(retry), backoff.failures());
                self.speak_up(retry, failures, None);
                if let Some(after) = after {
                    self.saves.chunk_waiting = true;
                    self.timer(Timer::RetryChunk, after);
                }
            }
        }
    }
}
