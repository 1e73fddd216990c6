//! The HTML shell, the root component and the route table.

use leptos::prelude::*;
use leptos_meta::{Link, Meta, MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{Route, Router, Routes},
    path,
};

use crate::{
    components::layout::Layout,
    contexts,
    pages::{
        account::{AccountDeletedPage, AccountPage},
        auth::{CheckEmailPage, ConfirmEmailPage, SignInPage, SignUpPage},
        history::HistoryPage,
        not_found::NotFoundPage,
        practice::PracticePage,
        progress::ProgressPage,
        shared::SharedPage,
        summary::SummaryPage,
        topic::TopicPage,
        topics::TopicsPage,
    },
};

/// The document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body class="bg-stone-50 text-stone-900 antialiased">
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    mark_hydrated();

    contexts::account::provide();
    contexts::recovery::Recoveries::provide();

    view! {
        <Stylesheet id="leptos" href="/pkg/speaking-coach.css" />
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg" />
        <Title formatter=|page: String| {
            if page.is_empty() { "Speaking Coach".to_owned() } else { format!("{page} · Speaking Coach") }
        } />
        <Meta
            name="description"
            content="Practise speaking with an AI coach: pick a topic, talk it through, replay it."
        />
        <Router>
            <Layout>
                // Pages wait for their data on the server, so they are complete without
                // JavaScript and can answer with the right status (404 for an unknown topic).
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/") view=TopicsPage ssr=SsrMode::Async />
                    <Route path=path!("/topics") view=TopicsPage ssr=SsrMode::Async />
                    <Route path=path!("/topics/:slug") view=TopicPage ssr=SsrMode::Async />
                    <Route
                        path=path!("/topics/:slug/practice")
                        view=PracticePage
                        ssr=SsrMode::Async
                    />
                    <Route path=path!("/practice/:id") view=SummaryPage ssr=SsrMode::Async />
                    <Route path=path!("/history") view=HistoryPage ssr=SsrMode::Async />
                    <Route path=path!("/progress") view=ProgressPage ssr=SsrMode::Async />
                    <Route path=path!("/shared/:token") view=SharedPage ssr=SsrMode::Async />
                    <Route path=path!("/sign-in") view=SignInPage ssr=SsrMode::Async />
                    <Route path=path!("/sign-up") view=SignUpPage ssr=SsrMode::Async />
                    <Route path=path!("/check-email") view=CheckEmailPage ssr=SsrMode::Async />
                    <Route
                        path=path!("/confirm-email")
                        view=ConfirmEmailPage
                        ssr=SsrMode::Async
                    />
                    <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async />
                    <Route
                        path=path!("/account-deleted")
                        view=AccountDeletedPage
                        ssr=SsrMode::Async
                    />
                </Routes>
            </Layout>
        </Router>
    }
}

/// Marks `<html data-hydrated="true">` once the browser has taken over the server-rendered page,
/// so end-to-end tests (and styles) can tell a hydrated page from a static one. Effects never run
/// on the server.
fn mark_hydrated() {
    Effect::new(|_| {
        #[cfg(feature = "hydrate")]
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });
}
