//! `/account` (signed-in learners only) and `/account-deleted`.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use crate::{
    api::auth::{DeleteAccount, SignOut, my_account},
    components::{
        feedback::ErrorPanel,
        form::{FormError, SubmitButton},
    },
    domain::account::{Account, Usage, megabytes},
    error::AppError,
};

#[component]
pub fn AccountPage() -> impl IntoView {
    let account = Resource::new(|| (), |()| my_account());
    view! {
        <Title text="Your account" />
        <Suspense fallback=|| view! { <p class="text-stone-500">"Loading your account…"</p> }>
            {move || Suspend::new(async move {
                match account.await {
                    Ok(account) => view! { <AccountDetails account /> }.into_any(),
                    Err(AppError::Unauthorized) => {
                        view! { <Redirect path="/sign-in?next=/account" /> }.into_any()
                    }
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AccountDetails(account: Account) -> impl IntoView {
    let delete = ServerAction::<DeleteAccount>::new();
    let sign_out = ServerAction::<SignOut>::new();
    let delete_error = Signal::derive(move || delete.value().get().and_then(Result::err));
    let member_since = account.created_at.format("%-d %B %Y").to_string();

    view! {
        <div class="mx-auto max-w-2xl space-y-6">
            <h1 class="text-3xl font-semibold tracking-tight text-stone-900">"Your account"</h1>
            <section
                aria-labelledby="details-heading"
                class="card p-6"
            >
                <h2 id="details-heading" class="text-lg font-semibold">
                    "Details"
                </h2>
                <dl class="mt-4 grid gap-4 sm:grid-cols-2">
                    <div>
                        <dt class="text-sm text-stone-500">"Email"</dt>
                        <dd class="mt-0.5 text-lg text-stone-900 [overflow-wrap:anywhere]">{account.email}</dd>
                    </div>
                    <div>
                        <dt class="text-sm text-stone-500">"Member since"</dt>
                        <dd class="mt-0.5 text-lg text-stone-900">
                            <time datetime=account.created_at.to_rfc3339()>{member_since}</time>
                        </dd>
                    </div>
                </dl>
                {account.usage.map(|usage| view! { <UsageDetails usage /> })}
                <ActionForm action=sign_out attr:class="mt-6">
                    <button
                        type="submit"
                        class="btn btn-secondary"
                    >
                        "Sign out"
                    </button>
                </ActionForm>
            </section>

            <section
                aria-labelledby="delete-heading"
                class="rounded-2xl border border-red-200 bg-white p-6 shadow-sm"
            >
                <h2 id="delete-heading" class="text-lg font-semibold text-red-800">
                    "Delete my account"
                </h2>
                <p class="mt-2 text-base text-stone-700">
                    "This deletes your account and everything in it: every practice session, transcript and recording. It cannot be undone."
                </p>
                <ActionForm action=delete attr:class="mt-4 space-y-4">
                    <FormError error=delete_error />
                    <label class="flex min-h-11 items-start gap-3 text-base text-stone-800">
                        <input
                            type="checkbox"
                            name="confirm"
                            value="delete"
                            required
                            class="mt-1 h-5 w-5 rounded border-stone-400 accent-red-700"
                        />
                        <span>"I understand that everything in my account will be deleted"</span>
                    </label>
                    <div class="sm:w-64">
                        <SubmitButton
                            label="Delete my account"
                            busy="Deleting…"
                            pending=delete.pending()
                            danger=true
                        />
                    </div>
                </ActionForm>
            </section>
        </div>
    }
}

/// Calls left today and storage used, each with its limit, in plain words.
#[component]
fn UsageDetails(usage: Usage) -> impl IntoView {
    let percent = usage.storage_percent();
    let calls_left = usage.calls_left();
    let calls = match calls_left {
        0 => "None left today".to_owned(),
        1 => "1 call left today".to_owned(),
        n => format!("{n} calls left today"),
    };
    let storage = format!(
        "{} of {} used",
        megabytes(usage.storage_bytes),
        megabytes(usage.storage_limit_bytes)
    );
    view! {
        <dl class="mt-4 grid gap-4 border-t border-stone-200 pt-4 sm:grid-cols-2">
            <div>
                <dt class="text-sm text-stone-500">"Calls with the coach"</dt>
                <dd class="mt-0.5 text-lg text-stone-900" data-testid="calls-left">{calls}</dd>
                <dd class="text-sm text-stone-500">
                    {format!("Up to {} a day, reconnections included", usage.calls_per_day)}
                </dd>
            </div>
            <div>
                <dt class="text-sm text-stone-500">"Recordings stored"</dt>
                <dd class="mt-0.5 text-lg text-stone-900" data-testid="storage-used">{storage}</dd>
                <dd class="mt-2">
                    <meter
                        class="h-3 w-full"
                        min="0"
                        max="100"
                        low="75"
                        high="90"
                        optimum="0"
                        value=percent.to_string()
                        aria-label="Storage used"
                    >
                        {format!("{percent}%")}
                    </meter>
                </dd>
            </div>
        </dl>
    }
}

#[component]
pub fn AccountDeletedPage() -> impl IntoView {
    view! {
        <Title text="Account deleted" />
        <section class="card mx-auto max-w-xl p-8 text-center">
            <h1 class="text-2xl font-semibold tracking-tight">"Your account has been deleted"</h1>
            <p class="mt-3 text-lg text-stone-600">
                "Your sessions, transcripts and recordings are gone. You're welcome back any time."
            </p>
            <a
                href="/topics"
                class="btn btn-primary mt-6"
            >
                "Browse topics"
            </a>
        </section>
    }
}
