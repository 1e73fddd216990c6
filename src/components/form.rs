//! Form pieces shared by the account pages.

use leptos::prelude::*;

use crate::error::AppError;

/// A labelled input with an optional hint, 44 px tall, with a visible focus ring.
#[component]
pub fn Field(
    label: &'static str,
    name: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] autocomplete: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional)] minlength: Option<u32>,
) -> impl IntoView {
    let hint_id = format!("{name}-hint");
    view! {
        <div>
            <label for=name class="block text-base font-medium text-stone-800">
                {label}
            </label>
            <input
                id=name
                name=name
                type=kind
                required
                minlength=minlength
                autocomplete=autocomplete
                aria-describedby=hint.map(|_| hint_id.clone())
                class="mt-1.5 block min-h-11 w-full rounded-xl border border-stone-300 bg-white px-3.5 text-lg text-stone-900 shadow-sm placeholder:text-stone-400 focus:border-teal-600 focus:outline-none focus:ring-2 focus:ring-teal-600/30"
            />
            {hint
                .map(|hint| {
                    view! {
                        <p id=hint_id class="mt-1.5 text-sm text-stone-500">
                            {hint}
                        </p>
                    }
                })}
        </div>
    }
}

/// The error of the last submission of a form, if it failed.
#[component]
pub fn FormError(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error.get().map(|error| {
            view! {
                <p
                    role="alert"
                    class="rounded-xl border border-red-200 bg-red-50 px-4 py-3 text-base text-red-800"
                >
                    {error.to_string()}
                </p>
            }
        })
    }
}

/// The primary button of a form; shows `busy` while the form is being submitted.
#[component]
pub fn SubmitButton(
    label: &'static str,
    busy: &'static str,
    #[prop(into)] pending: Signal<bool>,
    #[prop(default = false)] danger: bool,
) -> impl IntoView {
    let tone = if danger { "btn-danger" } else { "btn-primary" };
    view! {
        <button
            type="submit"
            disabled=move || pending.get()
            class=format!("btn-lg {tone} w-full disabled:cursor-wait")
        >
            {move || if pending.get() { busy } else { label }}
        </button>
    }
}
