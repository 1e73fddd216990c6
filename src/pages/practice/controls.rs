//! What the learner can do during the call: mute, push-to-talk, End.

use leptos::prelude::*;

use super::outcome::TroubleNote;

/// Mute, push-to-talk and End, and what saving says. A pressed Mute or Hold looks so by its
/// `aria-pressed`, which the call sets.
#[component]
pub(super) fn CallControls() -> impl IntoView {
    view! {
        <div class="card space-y-4 p-5">
            <p class="flex items-center gap-2 text-sm text-stone-600">
                <span class="relative flex h-2.5 w-2.5" aria-hidden="true">
                    <span class="h-2.5 w-2.5 rounded-full bg-red-500"></span>
                </span>
                "Recording this conversation"
                <span class="whitespace-nowrap text-stone-500" data-testid="saving" data-call="saving">
                    " · saving…"
                </span>
            </p>
            // Saving trouble that lasts, or another problem (the mic-lost panel says its own).
            <div
                role="status"
                data-call="call-trouble"
                hidden
                class="rounded-lg bg-amber-50 px-3 py-2 text-sm text-amber-900"
            >
                <TroubleNote />
            </div>
            <div class="flex flex-wrap gap-3">
                <button
                    type="button"
                    aria-pressed="false"
                    data-call="mute"
                    class="focus-ring inline-flex min-h-11 flex-1 items-center justify-center rounded-xl border border-stone-300 bg-white px-4 text-base font-medium text-stone-800 hover:bg-stone-50 disabled:opacity-50 aria-pressed:border-amber-400 aria-pressed:bg-amber-50 aria-pressed:text-amber-900"
                >
                    "Mute"
                </button>
                <button
                    type="button"
                    data-call="end"
                    class="focus-ring inline-flex min-h-11 flex-1 items-center justify-center whitespace-nowrap rounded-xl bg-stone-900 px-3 text-base font-semibold text-white hover:bg-stone-700"
                >
                    "End session"
                </button>
            </div>
            <label class="flex min-h-11 cursor-pointer items-center justify-between gap-3">
                <span>
                    <span class="block text-base font-medium text-stone-900">"Push to talk"</span>
                    <span class="block text-sm text-stone-600">
                        "Hold the button (or Space) while you speak: take all the time you need."
                    </span>
                </span>
                <input
                    type="checkbox"
                    role="switch"
                    data-call="push-to-talk"
                    class="focus-ring h-6 w-6 accent-teal-700"
                />
            </label>
            <button
                type="button"
                aria-pressed="false"
                data-call="hold"
                hidden
                class="focus-ring flex min-h-16 w-full select-none items-center justify-center rounded-xl bg-teal-700 text-lg font-semibold text-white hover:bg-teal-800 touch-none disabled:opacity-50 aria-pressed:bg-teal-800"
            >
                "Hold to talk"
            </button>
        </div>
    }
}
