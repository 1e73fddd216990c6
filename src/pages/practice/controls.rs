//! What the learner can do during the call: mute, push-to-talk, End.

use leptos::prelude::*;

use super::Practice;
use super::outcome::TroubleNote;
use crate::domain::call::CallState;
use crate::domain::session::Command;

/// Mute, push-to-talk and End.
#[component]
pub(super) fn CallControls(p: Practice) -> impl IntoView {
    let live = move || matches!(p.state.get(), CallState::Live { .. });
    #[cfg(feature = "hydrate")]
    {
        use leptos::ev;
        let typing = |event: &web_sys::KeyboardEvent| {
            use wasm_bindgen::JsCast;
            event
                .target()
                .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
                .is_some_and(|element| {
                    matches!(element.tag_name().as_str(), "INPUT" | "TEXTAREA" | "BUTTON")
                })
        };
        let down = window_event_listener(ev::keydown, move |event| {
            if event.code() == "Space" && p.push_to_talk.get_untracked() && !typing(&event) {
                event.prevent_default();
                if !event.repeat() {
                    p.send(Command::Hold);
                }
            }
        });
        let up = window_event_listener(ev::keyup, move |event| {
            if event.code() == "Space" && p.push_to_talk.get_untracked() {
                p.send(Command::LetGo);
            }
        });
        on_cleanup(move || {
            down.remove();
            up.remove();
        });
    }
    view! {
        <div class="card space-y-4 p-5">
            <p class="flex items-center gap-2 text-sm text-stone-600">
                <span class="relative flex h-2.5 w-2.5" aria-hidden="true">
                    <span class="h-2.5 w-2.5 rounded-full bg-red-500"></span>
                </span>
                "Recording this conversation"
                <span class="whitespace-nowrap text-stone-500" data-testid="saving">
                    {move || {
                        let saving = p.session_id.get().is_none() || p.saving.get()
                            || p.pending_turns.get() > 0;
                        if saving { " · saving…" } else { " · saved" }
                    }}
                </span>
            </p>
            // Saving trouble that lasts, or another problem (the mic-lost panel says its own).
            {move || match (p.trouble.get(), p.problem.get().filter(|_| !p.mic_lost.get())) {
                (Some(trouble), _) => {
                    view! {
                        <div
                            role="status"
                            data-testid="saving-problem"
                            class="rounded-lg bg-amber-50 px-3 py-2 text-sm text-amber-900"
                        >
                            <TroubleNote trouble />
                        </div>
                    }
                        .into_any()
                }
                (None, Some(problem)) => {
                    view! {
                        <p
                            role="status"
                            data-testid="saving-problem"
                            class="rounded-lg bg-amber-50 px-3 py-2 text-sm text-amber-900"
                        >
                            {problem.message().to_owned()}
                        </p>
                    }
                        .into_any()
                }
                (None, None) => ().into_any(),
            }}
            <div class="flex flex-wrap gap-3">
                <button
                    type="button"
                    aria-pressed=move || p.muted.get().to_string()
                    disabled=move || p.push_to_talk.get()
                    on:click=move |_| p.send(Command::SetMuted(!p.muted.get_untracked()))
                    class=move || {
                        format!(
                            "focus-ring inline-flex min-h-11 flex-1 items-center justify-center rounded-xl border px-4 text-base font-medium disabled:opacity-50 {}",
                            if p.muted.get() {
                                "border-amber-400 bg-amber-50 text-amber-900"
                            } else {
                                "border-stone-300 bg-white text-stone-800 hover:bg-stone-50"
                            },
                        )
                    }
                >
                    {move || if p.muted.get() { "Unmute" } else { "Mute" }}
                </button>
                <button
                    type="button"
                    on:click=move |_| p.send(Command::End)
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
                    prop:checked=move || p.push_to_talk.get()
                    on:change=move |event| p.send(Command::SetPushToTalk(event_target_checked(&event)))
                    class="focus-ring h-6 w-6 accent-teal-700"
                />
            </label>
            <Show when=move || p.push_to_talk.get()>
                <button
                    type="button"
                    disabled=move || !live()
                    aria-pressed=move || p.holding.get().to_string()
                    on:pointerdown=move |_| p.send(Command::Hold)
                    on:pointerup=move |_| p.send(Command::LetGo)
                    on:pointerleave=move |_| p.send(Command::LetGo)
                    on:pointercancel=move |_| p.send(Command::LetGo)
                    class=move || {
                        format!(
                            "focus-ring flex min-h-16 w-full select-none items-center justify-center rounded-xl text-lg font-semibold touch-none disabled:opacity-50 {}",
                            if p.holding.get() { "bg-teal-800 text-white" } else { "bg-teal-700 text-white hover:bg-teal-800" },
                        )
                    }
                >
                    {move || if p.holding.get() { "Listening… release to send" } else { "Hold to talk" }}
                </button>
            </Show>
        </div>
    }
}
