//! How a call ends: saving after End, a failure with its way forward, and what the page says
//! while part of the session waits to be saved.

use leptos::prelude::*;

/// After End, while the session is saved (then the summary opens); a call cancelled before it
/// began; or a problem saving.
#[component]
pub(super) fn EndedPanel(slug: String) -> impl IntoView {
    view! {
        <section data-call="ended" hidden class="card mt-8 p-8 text-center">
            <div data-call="ended-trouble" hidden>
                <h2 class="text-xl font-semibold text-stone-900">"Your session has ended"</h2>
                // The page's note about saving moves here (`call::view`).
                <div class="mt-2 text-lg text-stone-700" data-call="ended-trouble-note"></div>
                <a href=format!("/topics/{slug}") class="btn btn-secondary mt-6">
                    "Back to the topic"
                </a>
            </div>
            <div data-call="ended-cancelled" hidden>
                <h2 class="text-xl font-semibold text-stone-900">"Call cancelled"</h2>
                <p class="mt-2 text-lg text-stone-700">"Nothing was saved."</p>
                <a href=format!("/topics/{slug}/practice") rel="external" class="btn btn-primary mt-6">
                    "Start again"
                </a>
            </div>
            <div data-call="ended-saving" role="status" class="text-lg text-stone-700">
                <p class="font-semibold text-stone-900">"Session ended"</p>
                <p class="mt-1">"Saving your session…"</p>
            </div>
        </section>
    }
}

/// What went wrong, in a learner's words, and the way forward: the call fills in which failure
/// and which of the ways apply.
#[component]
pub(super) fn FailurePanel(slug: String) -> impl IntoView {
    view! {
        <section
            role="alert"
            data-call="failure"
            hidden
            class="mt-8 max-w-2xl rounded-2xl border border-red-200 bg-white p-6 shadow-sm"
        >
            <h2 class="text-xl font-semibold text-stone-900" data-call="failure-title"></h2>
            <p class="mt-2 text-lg leading-relaxed text-stone-700 empty:hidden" data-call="failure-text"></p>
            <p class="mt-2 text-lg leading-relaxed text-stone-700" aria-live="polite" data-call="failure-wait" hidden></p>
            <p class="mt-2 text-lg leading-relaxed text-stone-700" data-call="failure-kept" hidden>
                "Everything said and recorded until then is saved in your summary, and you can start a new conversation whenever you're ready."
            </p>
            <div class="mt-2 text-lg leading-relaxed text-stone-700" data-call="failure-trouble" hidden></div>
            <p role="status" class="mt-2 text-lg leading-relaxed text-stone-700" data-call="failure-saving" hidden>
                "Saving everything said and recorded until then…"
            </p>
            <div class="mt-6 flex flex-wrap gap-3">
                <button type="button" data-call="retry" class="btn btn-primary">
                    "Try again"
                </button>
                <a href="/history" data-call="summary-link" hidden class="btn btn-primary">
                    "See your summary"
                </a>
                <a href=format!("/topics/{slug}") class="btn btn-secondary">
                    "Back to the topic"
                </a>
            </div>
        </section>
    }
}

/// Why part of the session is not saved yet, or another problem (`trouble-text`, filled by the
/// call). Signed out, it offers a sign-in in a new tab (`trouble-sign-in`): this page (and its
/// call) must stay open meanwhile. One note on the page, which the call moves into the panel
/// showing it.
#[component]
pub(super) fn TroubleNote() -> impl IntoView {
    view! {
        <div data-call="trouble" data-testid="saving-problem">
            <p data-call="trouble-text"></p>
            <a
                href="/sign-in?next=/history"
                target="_blank"
                rel="noopener"
                data-testid="sign-in-again"
                data-call="trouble-sign-in"
                hidden
                class="btn btn-primary mt-2"
            >
                "Sign in again"
                <span aria-hidden="true" class="ml-1.5">"↗"</span>
                <span class="sr-only">" (opens a new tab)"</span>
            </a>
        </div>
    }
}
