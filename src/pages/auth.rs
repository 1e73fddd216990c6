//! `/sign-in`, `/sign-up`, `/check-email` and `/confirm-email`: plain forms that post to the
//! server, enhanced when the wasm has loaded. `?next=/path` says where to go afterwards.
//!
//! Sign-up asks only for the email and mails a link; the learner chooses a password on the
//! link's page, and only then does the account exist and they are signed in.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

use crate::{
    api::auth::{FinishSignUp, SignIn, SignUp, local_mailbox, sign_up_link_email},
    components::form::{Field, FormError, SubmitButton},
    domain::account::{encode_query_value, safe_return_path},
    error::AppError,
};

fn next_param() -> Memo<String> {
    let query = use_query_map();
    Memo::new(move |_| safe_return_path(query.read().get("next").as_deref()))
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let next = next_param();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));

    view! {
        <Title text="Sign in" />
        <AuthCard
            title="Welcome back"
            intro="Sign in to practise and to find your past sessions."
        >
            <ActionForm action attr:class="space-y-5">
                <input type="hidden" name="next" value=next />
                <FormError error />
                <Field label="Email" name="email" kind="email" autocomplete="email" />
                <Field
                    label="Password"
                    name="password"
                    kind="password"
                    autocomplete="current-password"
                />
                <SubmitButton label="Sign in" busy="Signing in…" pending=action.pending() />
            </ActionForm>
            <SwitchLink prompt="New here? " label="Create an account" page="/sign-up" next />
        </AuthCard>
    }
}

#[component]
pub fn SignUpPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let next = next_param();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));

    view! {
        <Title text="Create an account" />
        <AuthCard
            title="Create your account"
            intro="Your sessions, recordings and transcripts stay private to you."
        >
            <ActionForm action attr:class="space-y-5">
                <input type="hidden" name="next" value=next />
                <FormError error />
                <Field
                    label="Email"
                    name="email"
                    kind="email"
                    autocomplete="email"
                    hint="We'll email you a link to confirm it's yours; you choose your password there."
                />
                <SubmitButton
                    label="Email me a link"
                    busy="Sending…"
                    pending=action.pending()
                />
            </ActionForm>
            <SwitchLink prompt="Already have an account? " label="Sign in" page="/sign-in" next />
        </AuthCard>
    }
}

/// Where sign-up sends everyone, whether or not the address had an account: the answer never says.
#[component]
pub fn CheckEmailPage() -> impl IntoView {
    let mailbox = Resource::new(|| (), |()| local_mailbox());
    view! {
        <Title text="Check your email" />
        <AuthCard
            title="Check your email"
            intro="One more step and you're ready to practise."
        >
            <p class="text-lg text-stone-700">
                "We've sent a link to the address you gave. Open it within 24 hours and choose "
                "your password to finish creating your account."
            </p>
            <p class="mt-4 text-base text-stone-600">
                "Nothing there after a few minutes? Look in your spam folder, or "
                <A
                    href="/sign-up"
                    attr:class="focus-ring rounded font-medium text-teal-800 underline underline-offset-4"
                >
                    "sign up again"
                </A>
                " to get a new link. Already have an account? "
                <A
                    href="/sign-in"
                    attr:class="focus-ring rounded font-medium text-teal-800 underline underline-offset-4"
                >
                    "Sign in"
                </A>
                "."
            </p>
            <Suspense>
                {move || Suspend::new(async move {
                    matches!(mailbox.await, Ok(true))
                        .then(|| {
                            view! {
                                <p class="mt-6 rounded-xl border border-amber-200 bg-amber-50 px-4 py-3 text-base text-amber-900">
                                    "This copy of Speaking Coach has no mail server: its mail is in the "
                                    <a
                                        href="/dev/mailbox"
                                        rel="external"
                                        class="focus-ring rounded font-medium underline underline-offset-4"
                                    >
                                        "development mailbox"
                                    </a>
                                    "."
                                </p>
                            }
                        })
                })}
            </Suspense>
        </AuthCard>
    }
}

/// Where the mailed link leads: shows the address and asks for a password. Following the link
/// does nothing by itself (mail scanners open links); submitting the form creates the account.
#[component]
pub fn ConfirmEmailPage() -> impl IntoView {
    let query = use_query_map();
    let token = Memo::new(move |_| query.read().get("token").unwrap_or_default());
    let next = next_param();
    let email = Resource::new(move || token.get(), sign_up_link_email);
    let action = ServerAction::<FinishSignUp>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));

    view! {
        <Title text="Finish signing up" />
        <Suspense fallback=|| view! { <p class="text-stone-500">"Checking your link…"</p> }>
            {move || Suspend::new(async move {
                match email.await {
                    Ok(email) => {
                        view! {
                            <AuthCard
                                title="Choose your password"
                                intro="Your email is confirmed: one last step."
                            >
                                <ActionForm action attr:class="space-y-5">
                                    <input type="hidden" name="token" value=token />
                                    <input type="hidden" name="next" value=next />
                                    <FormError error />
                                    <div>
                                        <p class="text-base font-medium text-stone-800">"Email"</p>
                                        <p
                                            class="mt-1 text-lg text-stone-900 [overflow-wrap:anywhere]"
                                            data-testid="link-email"
                                        >
                                            {email.clone()}
                                        </p>
                                        // For password managers, which save the pair.
                                        <input
                                            type="email"
                                            name="username"
                                            value=email
                                            autocomplete="username"
                                            readonly
                                            hidden
                                        />
                                    </div>
                                    <Field
                                        label="Password"
                                        name="password"
                                        kind="password"
                                        autocomplete="new-password"
                                        minlength=10
                                        hint="At least 10 characters and hard to guess: a short sentence of your own works well."
                                    />
                                    <SubmitButton
                                        label="Create account"
                                        busy="Creating your account…"
                                        pending=action.pending()
                                    />
                                </ActionForm>
                            </AuthCard>
                        }
                            .into_any()
                    }
                    Err(error) => {
                        view! {
                            <AuthCard
                                title="This link doesn't work"
                                intro="Sign-up links work once, for 24 hours."
                            >
                                <LinkTrouble error />
                            </AuthCard>
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// A sign-up link that does not work (expired, used, mistyped), and the ways on.
#[component]
fn LinkTrouble(error: AppError) -> impl IntoView {
    view! {
        <p role="alert" class="text-lg text-stone-700">
            {error.to_string()}
        </p>
        <div class="mt-6 flex flex-wrap gap-3">
            <a href="/sign-up" class="btn btn-primary">
                "Sign up again"
            </a>
            <a href="/sign-in" class="btn btn-secondary">
                "Sign in"
            </a>
        </div>
    }
}

/// "New here? Create an account" and its opposite, keeping where to go afterwards.
#[component]
fn SwitchLink(
    prompt: &'static str,
    label: &'static str,
    page: &'static str,
    next: Memo<String>,
) -> impl IntoView {
    view! {
        <p class="mt-6 text-center text-base text-stone-600">
            {prompt}
            <A
                href=move || format!("{page}?next={}", encode_query_value(&next.get()))
                attr:class="focus-ring rounded font-medium text-teal-800 underline underline-offset-4"
            >
                {label}
            </A>
        </p>
    }
}

#[component]
fn AuthCard(title: &'static str, intro: &'static str, children: Children) -> impl IntoView {
    view! {
        <div class="mx-auto max-w-md">
            <h1 class="text-3xl font-semibold tracking-tight text-stone-900">{title}</h1>
            <p class="mt-2 text-lg text-stone-600">{intro}</p>
            <div class="card mt-8 p-6 sm:p-8">
                {children()}
            </div>
        </div>
    }
}
