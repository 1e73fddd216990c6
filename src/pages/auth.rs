//! `/sign-in` and `/sign-up`: plain forms that post to the server, enhanced when the wasm has
//! loaded. `?next=/path` says where to go afterwards.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

use crate::{
    api::auth::{SignIn, SignUp},
    components::form::{Field, FormError, SubmitButton},
    contexts::account::auth_action,
    domain::account::safe_return_path,
};

fn next_param() -> Memo<String> {
    let query = use_query_map();
    Memo::new(move |_| safe_return_path(query.read().get("next").as_deref()))
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let action = auth_action::<SignIn>();
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
    let action = auth_action::<SignUp>();
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
                <Field label="Email" name="email" kind="email" autocomplete="email" />
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
            <SwitchLink prompt="Already have an account? " label="Sign in" page="/sign-in" next />
        </AuthCard>
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
                href=move || format!("{page}?next={}", urlencode(&next.get()))
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

/// Percent-encodes a path for use as a query value.
fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
