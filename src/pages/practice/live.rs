//! The live call: the transcript as it builds, and the paused state when the microphone stops.

use leptos::prelude::*;

use super::controls::CallControls;
use crate::domain::call::CallState;

/// The conversation: the transcript, the words, and the controls (hidden until the call starts).
#[component]
pub(super) fn LiveCall() -> impl IntoView {
    view! {
        <div data-call="live" hidden>
            <div
                role="status"
                data-testid="reconnecting"
                data-call="reconnecting"
                hidden
                class="mt-6 flex items-start gap-3 rounded-2xl border border-amber-300 bg-amber-50 p-4 text-amber-950"
            >
                <span class="mt-1.5 h-2.5 w-2.5 shrink-0 rounded-full bg-amber-500 motion-safe:animate-pulse" aria-hidden="true"></span>
                <div>
                    <p class="font-semibold" data-call="reconnecting-text">
                        {format!(
                            "The connection dropped. Reconnecting… (attempt 1 of {})",
                            CallState::MAX_RECONNECTS,
                        )}
                    </p>
                    <p class="mt-1 text-sm">
                        "Keep talking if you like: you are still being recorded, and the conversation goes on where it stopped."
                    </p>
                </div>
            </div>
            <div
                role="status"
                data-testid="reconnected"
                data-call="reconnected"
                hidden
                class="mt-6 flex items-center gap-3 rounded-2xl border border-teal-200 bg-teal-50 p-4 font-semibold text-teal-900"
            >
                <span class="h-2.5 w-2.5 shrink-0 rounded-full bg-teal-600" aria-hidden="true"></span>
                "You're back. The conversation goes on where it stopped."
            </div>
            <MicLostPanel />
            <div
                class="mt-6 grid gap-6 lg:grid-cols-[minmax(0,1fr)_20rem]"
                data-testid="live-call"
                data-call="live-call"
                data-coach-heard="false"
                data-reconnects="0"
            >
                <TranscriptLog />
                <aside class="h-fit space-y-6 lg:sticky lg:top-6">
                    <CallControls />
                    // The check's list of words moves here (`call::view`).
                    <div class="card p-5" data-call="live-words"></div>
                </aside>
            </div>
        </div>
    }
}

/// The microphone stopped mid-call: what happened, that nothing is lost, and a way to go on with
/// another input (or the same one plugged back in).
#[component]
fn MicLostPanel() -> impl IntoView {
    view! {
        <section
            role="alert"
            data-testid="mic-lost"
            data-call="mic-lost"
            hidden
            class="mt-6 rounded-2xl border border-amber-300 bg-amber-50 p-5 text-amber-950"
        >
            <h2 class="text-lg font-semibold">"Your microphone stopped"</h2>
            <p class="mt-1">
                "Your coach can't hear you, so the conversation is paused. Everything so far is saved. Plug your microphone back in, or choose another one:"
            </p>
            <div class="mt-4 flex flex-wrap items-end gap-3">
                <label class="flex min-w-[16rem] flex-1 flex-col gap-1 text-sm font-medium">
                    "Microphone"
                    <select
                        data-call="inputs"
                        class="focus-ring min-h-11 rounded-xl border border-stone-300 bg-white px-3 text-base"
                    ></select>
                </label>
                <button type="button" data-call="use-input" class="btn btn-primary">
                    "Use this microphone"
                </button>
                <button type="button" data-call="look-again" class="btn btn-secondary">
                    "Look again"
                </button>
            </div>
        </section>
    }
}

/// The transcript as a chat: coach on the left, learner on the right, in spoken order. Each turn
/// is a copy of the template, filled by the call.
#[component]
fn TranscriptLog() -> impl IntoView {
    view! {
        <section aria-labelledby="transcript-heading" class="card flex min-h-[16rem] flex-col lg:min-h-[24rem]">
            <h2 id="transcript-heading" class="sr-only">"Transcript"</h2>
            <div
                role="log"
                aria-live="polite"
                aria-label="Conversation transcript"
                data-testid="transcript"
                data-call="transcript"
                class="max-h-[45vh] flex-1 space-y-4 overflow-y-auto p-4 sm:p-5 lg:max-h-[60vh]"
            >
                <p data-call="transcript-empty" class="py-12 text-center text-lg text-stone-500">
                    "Connecting you to your coach…"
                </p>
            </div>
            <template data-call="turn-template">
                <div class="flex">
                    <div data-speaker="" data-state="">
                        <p class="text-xs font-semibold uppercase tracking-wide opacity-80">
                            <span data-part="who"></span>
                            <span data-part="note" class="ml-2 normal-case"></span>
                        </p>
                        <p data-turn-text data-part="text"></p>
                    </div>
                </div>
            </template>
        </section>
    }
}
