//! The HTML shell, the root component and the route table.

use leptos::prelude::*;
use leptos_meta::{Link, Meta, Stylesheet, Title, provide_meta_context};
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
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    use leptos_meta::MetaTags;

    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <AutoReload options=options.clone() />
                <Scripts options />
                <MetaTags />
            </head>
            <body class="bg-stone-50 text-stone-900 antialiased">
                <App />
            </body>
        </html>
    }
}

/// What a page loads to come alive. Pages are server-rendered HTML in which only the islands
/// (`#[island]`) hydrate. The wasm bundle is split (`server::bundle`): a small main module, and
/// the code of each island in files of its own that load when a page has that island. The call
/// and the replays open on their island, so they preload its files with the main module. A page
/// whose only island is the recovery notice loads nothing unless this browser holds a recording
/// a closed page left behind. Every page first marks a browser that cannot make voice calls, for
/// the style to say so.
#[cfg(feature = "ssr")]
#[component]
fn Scripts(options: LeptosOptions) -> impl IntoView {
    use axum::http::request::Parts;

    use crate::server::bundle::{Island, island_files};

    // Outside the islands nothing hydrates, so the page carries no hydration data for it (as
    // Leptos' own `HydrationScripts` does in islands mode).
    if let Some(context) = Owner::current_shared_context() {
        context.set_is_hydrating(false);
    }
    let nonce = leptos::nonce::use_nonce();
    let name = &options.output_name;
    let pkg = &options.site_pkg_dir;
    // cargo-leptos names the wasm after the package; wasm-bindgen alone adds `_bg`.
    let wasm = if option_env!("LEPTOS_OUTPUT_NAME").is_some() {
        format!("/{pkg}/{name}.wasm")
    } else {
        format!("/{pkg}/{name}_bg.wasm")
    };
    let js = format!("/{pkg}/{name}.js");
    let script = format!("{HYDRATE}({js:?}, {wasm:?});");
    let path = use_context::<Parts>().map(|parts| parts.uri.path().to_owned());
    let preload = path.as_deref().and_then(opening).map(|opening| {
        let (scripts, wasm) = match opening {
            // The call's own bundle, and nothing of Leptos' (`crate::call`).
            Opening::Call => {
                let (js, wasm) = crate::pages::practice::call_bundle(pkg);
                (vec![js], vec![wasm])
            }
            Opening::Replay => {
                let (loader, files) = island_files(&options, Island::Replay);
                (
                    std::iter::once(js).chain(loader).collect(),
                    std::iter::once(wasm).chain(files).collect(),
                )
            }
        };
        let scripts = scripts.into_iter().map(|href| {
            view! { <link rel="modulepreload" href=href crossorigin="" /> }
        });
        let wasm = wasm.into_iter().map(|href| {
            view! {
                <link rel="preload" href=href r#as="fetch" r#type="application/wasm" crossorigin="" />
            }
        });
        view! {
            {scripts.collect_view()}
            {wasm.collect_view()}
        }
    });
    view! {
        <script nonce=nonce.clone()>{MARK_NO_CALLS}</script>
        {preload}
        <script type="module" nonce=nonce>{script}</script>
    }
}

/// `<html data-calls="unsupported">` in a browser without what a call needs (as
/// `browser::calls_supported` asks it); `no-calls:` styles (style/tailwind.css) follow it.
#[cfg(feature = "ssr")]
const MARK_NO_CALLS: &str = r#"if (!("RTCPeerConnection" in window && "MediaRecorder" in window && "AudioContext" in window)) document.documentElement.dataset.calls = "unsupported";"#;

/// Hydrates each island of the page with the function the bundle exports under the island's
/// `data-component` name (as Leptos' islands script does, at once rather than when the browser is
/// idle: the call's check should start without delay). The bundle loads, and is readied
/// (`hydrate` in lib.rs), once, for the first island that needs it; each lazy island then fetches
/// its own files. The recovery notice needs it only when this browser's outbox
/// (`browser/outbox.rs`) holds an attempt, or when that cannot be told (no
/// `indexedDB.databases`, or reading it failed): opening a database that does not exist would
/// create it, so the list of databases is asked first. Then marks `<html data-hydrated="true">`
/// (every island with work to do is alive), so end-to-end tests can tell.
#[cfg(feature = "ssr")]
const HYDRATE: &str = r#"(async (js, wasm) => {
  const ask = (request) => new Promise((done, fail) => {
    request.onsuccess = () => done(request.result);
    request.onerror = () => fail(request.error);
  });
  const leftBehind = async () => {
    try {
      if (!indexedDB.databases) return true;
      if (!(await indexedDB.databases()).some((db) => db.name === "speaking-coach")) return false;
      const db = await ask(indexedDB.open("speaking-coach"));
      const left = db.objectStoreNames.contains("attempts")
        ? await ask(db.transaction("attempts").objectStore("attempts").count())
        : 0;
      db.close();
      return left > 0;
    } catch {
      return true;
    }
  };
  let ready;
  const bundle = () => (ready ??= (async () => {
    const bundle = await import(js);
    await bundle.default({ module_or_path: wasm });
    bundle.hydrate();
    return bundle;
  })());
  const start = async (island) => {
    const name = island.dataset.component;
    if (name.startsWith("RecoveryNotice_") && !(await leftBehind())) return;
    const exports = await bundle();
    if (exports[name]) await exports[name](island);
    else console.warn(`no island ${name} in the bundle`);
  };
  // The live call's page starts its own bundle (`crate::call`), which has no Leptos in it.
  const call = async () => {
    const page = document.querySelector('[data-call="page"]');
    if (!page) return;
    const bundle = await import(page.dataset.js);
    await bundle.default({ module_or_path: page.dataset.wasm });
    bundle.start_call();
  };
  const started = await Promise.allSettled(
    [call(), ...[...document.querySelectorAll("leptos-island")].map(start)],
  );
  for (const failed of started.filter((result) => result.status === "rejected")) {
    console.error("the page's code did not start:", failed.reason);
  }
  document.documentElement.dataset.hydrated = "true";
})"#;

/// What a page opens on, whose files it preloads: the live call (its own bundle), or the replay
/// of a session, a learner's or a shared one (an island).
#[cfg(feature = "ssr")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opening {
    Call,
    Replay,
}

#[cfg(feature = "ssr")]
fn opening(path: &str) -> Option<Opening> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segments.as_slice() {
        ["topics", _, "practice"] => Some(Opening::Call),
        ["practice", _] | ["shared", _] => Some(Opening::Replay),
        _ => None,
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    contexts::account::provide();

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

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::{Opening, opening};

    #[test]
    fn only_the_call_and_the_replays_preload_their_bundles() {
        assert_eq!(
            opening("/topics/ordering-at-a-cafe/practice"),
            Some(Opening::Call)
        );
        for path in [
            "/practice/5f0c6d7e-1b7a-4a8e-9d57-3f7b8c2e1a90",
            "/shared/0123abcd",
        ] {
            assert_eq!(opening(path), Some(Opening::Replay), "{path}");
        }
        for path in [
            "/",
            "/topics",
            "/topics/ordering-at-a-cafe",
            "/history",
            "/progress",
            "/account",
            "/sign-in",
            "/sign-up",
            "/confirm-email",
            "/practice",
            "/topics/ordering-at-a-cafe/practice/more",
            "/no-such-page",
        ] {
            assert_eq!(opening(path), None, "{path}");
        }
    }
}
