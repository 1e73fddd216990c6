//! Any path the app does not know. The server answers it with status 404.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{components::feedback::ErrorPanel, error::AppError};

#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <Title text="Page not found" />
        <ErrorPanel error=AppError::not_found("page") />
    }
}
