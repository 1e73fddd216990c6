//! The signed-in learner's account, as every page and the header see it.

use leptos::prelude::*;

use crate::{api::auth::current_account, domain::account::Account, error::AppError};

/// Counts completed account actions (sign in, up, out, delete) so the header refetches the
/// current account after each.
#[derive(Clone, Copy)]
pub struct AuthVersion(RwSignal<usize>);

/// The signed-in learner's account (`None` for a visitor), refetched after every account action.
#[derive(Clone, Copy)]
pub struct CurrentAccount(pub Resource<Result<Option<Account>, AppError>>);

/// A server action for an account form. Create it in the page that shows the form: there it picks
/// up the error of a form posted without JavaScript (carried back in the URL). Each completed
/// submission makes the header look at the account again.
pub fn auth_action<S>() -> ServerAction<S>
where
    S: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Send + Sync + 'static,
{
    let action = ServerAction::<S>::new();
    if let Some(AuthVersion(version)) = use_context::<AuthVersion>() {
        Effect::watch(
            move || action.version().get(),
            move |_, _, _| version.update(|v| *v += 1),
            false,
        );
    }
    action
}

/// Provides the account contexts (at the app's root).
pub fn provide() {
    let version = RwSignal::new(0);
    provide_context(AuthVersion(version));
    let account = Resource::new(move || version.get(), |_| current_account());
    provide_context(CurrentAccount(account));
}
