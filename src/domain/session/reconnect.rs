//! A dropped call is replaced by new ones (with `CallState::reconnect_wait_ms` between
//! attempts, up to `CallState::MAX_RECONNECTS`) that carry the session on; after the last, the
//! session is saved as it is.

use realtime_protocol::{ClientEvent, events::Item};

use super::{Effect, Session, Timer, ending::WrapReason, turn_detection};
use crate::domain::call::{CallEvent, CallFailure, CallNote, CallState, DropCause};

/// What the new call is told after the conversation so far.
const CARRY_ON: &str = "The call dropped for a moment and is back. Continue the conversation \
                        from where it stopped: do not greet the learner or start over. If the \
                        learner was speaking, ask them to finish what they were saying.";

impl Session {
    /// The new call is told the conversation so far (and to continue it, not start again).
    pub(super) fn resume(&mut self, attempt: u32) {
        for item in self.transcript.replay() {
            self.send(ClientEvent::ItemCreate {
                previous_item_id: None,
                item,
            });
        }
        self.send(ClientEvent::ItemCreate {
            previous_item_id: None,
            item: Item::text("system", CARRY_ON),
        });
        // Its secret has turn detection off, as every secret has.
        self.send(turn_detection(self.talk.push_to_talk));
        if !self.talk.push_to_talk {
            self.send(ClientEvent::ResponseCreate { response: None });
        }
        if self.transition(CallEvent::Reconnected) {
            self.connected_at = self.now.ms;
            self.reconnects += 1;
            self.back = true;
            self.timer(Timer::BackNotice, Self::BACK_NOTICE_MS);
            self.note(CallNote::Reconnected, self.dropped, attempt);
        }
    }

    /// The call dropped. A live session goes on: the recorder keeps recording the microphone
    /// while new calls are tried. A call that never came up failed to start: no session to keep.
    pub(super) fn lost(&mut self, cause: DropCause) {
        match self.state {
            CallState::Live { .. } => {
                self.transition(CallEvent::ConnectionLost);
                self.dropped = Some(cause);
                self.note(CallNote::Dropped, Some(cause), 0);
                // Whatever the lost call left open will never finish.
                self.settle_open_turns();
                self.next_call();
                self.timer(
                    Timer::Reconnect {
                        generation: self.generation,
                    },
                    CallState::reconnect_wait_ms(1),
                );
            }
            CallState::Reconnecting { .. } => self.attempt_failed(),
            CallState::Connecting => self.fail(CallFailure::ConnectionLost),
            // The warm call dropped before Start: Start makes another.
            CallState::Ready => self.cool(),
            _ => {}
        }
    }

    /// Leaves the current call behind: whatever it still says is ignored.
    pub(super) fn next_call(&mut self) {
        self.generation += 1;
        self.active_response = None;
        self.push(Effect::DropPeer);
    }

    /// A reconnection attempt did not bring the call back: wait and try the next, or, after the
    /// last, save the session as it is.
    pub(super) fn attempt_failed(&mut self) {
        let CallState::Reconnecting { attempt } = self.state else {
            return;
        };
        self.next_call();
        self.transition(CallEvent::ConnectionLost);
        match self.state {
            CallState::Reconnecting { attempt } => self.timer(
                Timer::Reconnect {
                    generation: self.generation,
                },
                CallState::reconnect_wait_ms(attempt),
            ),
            _ => {
                self.note(CallNote::GaveUp, self.dropped, attempt);
                self.wrap_up(WrapReason::Lost);
            }
        }
    }
}
