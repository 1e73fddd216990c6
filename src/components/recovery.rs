//! What the app says about recovery: the notice of what was recovered in this browser, and the
//! one-click Recover button for a session the server has but never finished.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::{
    api::practice::RecoverPractice,
    contexts::{account::CurrentAccount, recovery::Recoveries},
};

/// Runs recovery once the signed-in learner is known, and tells them what was recovered.
#[component]
pub fn RecoveryNotice() -> impl IntoView {
    let recoveries = expect_context::<Recoveries>();
    let CurrentAccount(account) = expect_context::<CurrentAccount>();
    Effect::new(move |started: Option<bool>| {
        if started == Some(true) {
            return true;
        }
        match account.get() {
            Some(Ok(Some(account))) => {
                recoveries.run(account.email);
                true
            }
            _ => false,
        }
    });
    let dismiss = move |_| recoveries.recovered.set(Vec::new());
    view! {
        <Show when=move || !recoveries.recovered.with(Vec::is_empty)>
            <div
                role="status"
                data-testid="recovered-notice"
                class="fixed inset-x-4 bottom-4 z-40 rounded-2xl border border-teal-200 bg-white p-5 shadow-lg sm:left-auto sm:right-6 sm:w-96"
            >
                <div class="flex items-start gap-3">
                    <span
                        aria-hidden="true"
                        class="mt-0.5 flex h-8 w-8 shrink-0 items-center justify-center rounded-full bg-teal-50 text-teal-700"
                    >
                        "✓"
                    </span>
                    <div class="min-w-0 flex-1">
                        <p class="font-semibold text-stone-900">"We saved your interrupted session"</p>
                        <ul class="mt-1 space-y-1 text-stone-600">
                            {move || {
                                recoveries
                                    .recovered
                                    .get()
                                    .into_iter()
                                    .map(|done| {
                                        view! {
                                            <li>
                                                {format!("{}: ", done.topic)}
                                                <A
                                                    href=format!("/practice/{}", done.session)
                                                    attr:class="link"
                                                >
                                                    "see what was said"
                                                </A>
                                            </li>
                                        }
                                    })
                                    .collect_view()
                            }}
                        </ul>
                    </div>
                    <button
                        type="button"
                        aria-label="Dismiss"
                        on:click=dismiss
                        class="focus-ring -m-2 flex h-11 w-11 shrink-0 items-center justify-center rounded-lg text-stone-500 hover:bg-stone-100 hover:text-stone-900"
                    >
                        <span aria-hidden="true">"×"</span>
                    </button>
                </div>
            </div>
        </Show>
    }
}

/// One-click recovery of a session whose recording the server has but never finished. A plain
/// form underneath, so it also works before the page has hydrated.
#[component]
pub fn RecoverButton(
    session: String,
    recover: ServerAction<RecoverPractice>,
    label: &'static str,
    /// A fuller name for screen readers when several buttons share `label`.
    #[prop(optional)]
    aria_label: Option<String>,
) -> impl IntoView {
    let busy = move || recover.pending().get();
    view! {
        <ActionForm action=recover>
            <input type="hidden" name="session" value=session />
            <button
                type="submit"
                aria-label=aria_label
                disabled=busy
                class="btn btn-primary"
            >
                {move || if busy() { "Recovering…" } else { label }}
            </button>
        </ActionForm>
    }
}
