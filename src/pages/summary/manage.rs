//! What the learner can do with a saved session besides replaying it: share it (with the
//! feedback or not) and delete it.

use super::*;

/// Sharing is an explicit choice: a link anyone can open, shown while it exists, revocable.
#[component]
pub(super) fn ShareSession(
    session: String,
    url: Option<String>,
    with_feedback: bool,
    sharing: Sharing,
) -> impl IntoView {
    let failed = move || {
        action_error(sharing.share)()
            .or_else(action_error(sharing.unshare))
            .or_else(action_error(sharing.feedback))
    };
    view! {
        <section
            aria-labelledby="share-heading"
            data-testid="share-session"
            class="mt-10 rounded-2xl border border-stone-200 bg-white p-5"
        >
            <div class="flex flex-wrap items-center gap-3">
                <h2 id="share-heading" class="text-lg font-semibold">"Sharing"</h2>
                {if url.is_some() {
                    view! { <span class="rounded-full border border-amber-300 bg-amber-50 px-3 py-0.5 text-sm font-medium text-amber-900">"Shared"</span> }.into_any()
                } else {
                    view! { <span class="rounded-full border border-stone-200 bg-stone-50 px-3 py-0.5 text-sm font-medium text-stone-700">"Private"</span> }.into_any()
                }}
            </div>
            {match url {
                Some(url) => {
                    let session_for_feedback = session.clone();
                    view! {
                        <p class="mt-3 text-stone-700">
                            "Anyone with this link can play the recording and read the transcript (not your account):"
                        </p>
                        <input
                            type="text"
                            readonly
                            value=url
                            aria-label="Share link"
                            data-testid="share-url"
                            class="mt-2 w-full rounded-lg border border-stone-300 bg-stone-50 px-3 py-2 font-mono text-sm text-stone-800"
                        />
                        <p class="mt-3 text-stone-700" data-testid="share-feedback-state">
                            {if with_feedback {
                                "The link also shows your feedback (figures and corrections)."
                            } else {
                                "Your feedback is not shown on the link."
                            }}
                        </p>
                        <ActionForm action=sharing.feedback attr:class="mt-2">
                            <input type="hidden" name="session" value=session_for_feedback />
                            <input type="hidden" name="include" value=(!with_feedback).to_string() />
                            <button
                                type="submit"
                                class="btn btn-secondary"
                            >
                                {if with_feedback { "Hide my feedback from the link" } else { "Show my feedback on the link" }}
                            </button>
                        </ActionForm>
                        <ActionForm action=sharing.unshare attr:class="mt-3">
                            <input type="hidden" name="session" value=session.clone() />
                            <button
                                type="submit"
                                class="btn btn-secondary"
                            >
                                "Stop sharing"
                            </button>
                        </ActionForm>
                    }
                        .into_any()
                }
                None => {
                    view! {
                        <p class="mt-3 text-stone-700">
                            "Only you can see this session. You can make a link for a teacher or a friend, and revoke it at any time."
                        </p>
                        <ActionForm action=sharing.share attr:class="mt-3">
                            <input type="hidden" name="session" value=session.clone() />
                            <label class="flex min-h-11 items-center gap-3 text-stone-800">
                                <input
                                    type="checkbox"
                                    name="include_feedback"
                                    value="true"
                                    class="h-5 w-5 rounded border-stone-400 accent-teal-700"
                                />
                                "Also show my feedback (figures and corrections)"
                            </label>
                            <button
                                type="submit"
                                class="btn btn-outline"
                            >
                                "Create a share link"
                            </button>
                        </ActionForm>
                    }
                        .into_any()
                }
            }}
            <p role="alert" class="mt-2 text-red-700 empty:hidden">{failed}</p>
        </section>
    }
}

/// The summary's sharing actions; the page reads the session again after each.
#[derive(Clone, Copy)]
pub(super) struct Sharing {
    pub(super) share: ServerAction<SharePractice>,
    pub(super) unshare: ServerAction<UnsharePractice>,
    pub(super) feedback: ServerAction<ShareFeedback>,
}

/// Deleting the session, behind a disclosure that asks first. A plain form: the server sends
/// the browser on to the history.
#[component]
pub(super) fn DeleteSession(session: String) -> impl IntoView {
    let delete = ServerAction::<DeletePractice>::new();
    let failed = action_error(delete);
    view! {
        <details class="group mt-10 rounded-2xl border border-stone-200 bg-white p-5" data-testid="delete-session">
            <summary class="focus-ring cursor-pointer rounded-lg font-medium text-red-800">
                "Delete this session"
            </summary>
            <p class="mt-3 text-stone-700">
                "Its recording and transcript are removed for good. This cannot be undone."
            </p>
            <ActionForm action=delete attr:class="mt-4">
                <input type="hidden" name="session" value=session />
                <button
                    type="submit"
                    class="btn btn-danger"
                >
                    "Delete for good"
                </button>
            </ActionForm>
            <p role="alert" class="mt-2 text-red-700 empty:hidden">{failed}</p>
        </details>
    }
}
