//! The signed-in learner's account, as every page and the header see it.

use leptos::prelude::*;

use crate::{api::auth::current_account, domain::account::Account, error::AppError};

/// The signed-in learner's account (`None` for a visitor), read once per page. Account actions
/// (sign in, up, out, delete) are plain forms whose server functions send the browser on to the
/// next page, which reads it again.
#[derive(Clone, Copy)]
pub struct CurrentAccount(pub Resource<Result<Option<Account>, AppError>>);

/// Provides the account context (at the app's root).
pub fn provide() {
    let account = Resource::new(|| (), |_| current_account());
    provide_context(CurrentAccount(account));
}
