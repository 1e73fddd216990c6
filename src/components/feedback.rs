//! Loading, empty and error states, designed once and used by every page.

use leptos::{prelude::*, server_fn::ServerFn};

use crate::error::AppError;

/// The last error of a server action, as text for an alert beside its button (`None` before it
/// has run and after it succeeded).
pub fn action_error<S>(action: ServerAction<S>) -> impl Fn() -> Option<String> + Copy + Send + Sync
where
    S: ServerFn + Clone + Send + Sync + 'static,
    S::Output: Send + Sync + 'static,
    S::Error: std::fmt::Display + Send + Sync + 'static,
{
    move || {
        action.value().with(|last| {
            last.as_ref()
                .and_then(|result| result.as_ref().err())
                .map(ToString::to_string)
        })
    }
}

/// Placeholder cards shown while topics load (client-side navigation only: server-rendered
/// pages arrive complete).
#[component]
pub fn CardSkeletons(#[prop(default = 6)] count: usize) -> impl IntoView {
    view! {
        <div role="status" aria-label="Loading topics">
            <ul class="grid gap-4 sm:grid-cols-2 lg:grid-cols-3" aria-hidden="true">
                {(0..count)
                    .map(|_| {
                        view! {
                            <li class="h-48 rounded-2xl border border-stone-200 bg-white p-5">
                                <div class="motion-safe:animate-pulse space-y-4">
                                    <div class="h-6 w-24 rounded-full bg-stone-200"></div>
                                    <div class="h-5 w-3/4 rounded bg-stone-200"></div>
                                    <div class="h-4 w-full rounded bg-stone-100"></div>
                                    <div class="h-4 w-2/3 rounded bg-stone-100"></div>
                                </div>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </div>
    }
}

/// An error explained to a learner, with a way forward. `NotFound` also sets the 404 status of
/// a server-rendered page.
#[component]
pub fn ErrorPanel(error: AppError) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>()
        && let Ok(status) = axum::http::StatusCode::from_u16(error.status())
    {
        response.set_status(status);
    }

    let (title, action) = match &error {
        AppError::NotFound { what } => (format!("We couldn't find that {what}"), None),
        AppError::Network { .. } => ("You seem to be offline".to_owned(), Some("Try again")),
        AppError::CoachUnavailable => ("The coach is unavailable".to_owned(), Some("Try again")),
        AppError::InvalidInput { .. } | AppError::Conflict { .. } | AppError::TooLarge { .. } => {
            ("That didn't work".to_owned(), None)
        }
        AppError::Unauthorized => ("Please sign in".to_owned(), None),
        AppError::TooManyRequests { .. } => ("Please slow down".to_owned(), Some("Try again")),
        AppError::LimitReached { .. } => ("You've reached a limit".to_owned(), None),
        AppError::Internal { .. } => ("Something went wrong".to_owned(), Some("Try again")),
    };
    let message = match &error {
        AppError::NotFound { .. } => {
            "The link may be old or mistyped. Every topic is on the topics page.".to_owned()
        }
        other => other.to_string(),
    };

    view! {
        <section
            role="alert"
            class="card mx-auto max-w-xl p-8 text-center"
        >
            <h1 class="text-2xl font-semibold tracking-tight">{title}</h1>
            <p class="mt-3 text-lg text-stone-600">{message}</p>
            <div class="mt-6 flex flex-wrap justify-center gap-3">
                {action
                    .map(|label| {
                        view! {
                            <a
                                href=""
                                class="btn btn-secondary"
                            >
                                {label}
                            </a>
                        }
                    })}
                <a
                    href="/topics"
                    class="btn btn-primary"
                >
                    "Browse topics"
                </a>
            </div>
        </section>
    }
}
