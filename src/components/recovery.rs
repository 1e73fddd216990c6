//! What the app says about recovery: the notice of what was recovered in this browser, and the
//! one-click Recover button for a session the server has but never finished.

use leptos::prelude::*;

use crate::{
    api::practice::RecoverPractice,
    contexts::{account::CurrentAccount, recovery::Recoveries},
};

/// Recovery on every page of a signed-in learner: the notice's island, which runs when the page
/// loads the wasm (`app::Scripts`: the call and the replays always, other pages when a closed
/// page left a recording behind).
#[component]
pub fn Recovery() -> impl IntoView {
    let CurrentAccount(account) = expect_context::<CurrentAccount>();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                account
                    .await
                    .ok()
                    .flatten()
                    .map(|account| view! { <RecoveryNotice owner=account.email /> })
            })}
        </Suspense>
    }
}

/// Recovers what `owner` left in this browser, and tells them what was recovered.
// Lazy in the split build: its code loads in files of its own (`server::bundle`).
#[cfg_attr(feature = "split", island(lazy))]
#[cfg_attr(not(feature = "split"), island)]
fn RecoveryNotice(owner: String) -> impl IntoView {
    let recoveries = Recoveries::new();
    Effect::new(move |_| recoveries.run(owner.clone()));
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
                                                <a href=format!("/practice/{}", done.session) class="link">
                                                    "see what was said"
                                                </a>
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
    view! {
        <ActionForm action=recover>
            <input type="hidden" name="session" value=session />
            <button
                type="submit"
                aria-label=aria_label
                class="btn btn-primary"
            >
                {label}
            </button>
        </ActionForm>
    }
}
