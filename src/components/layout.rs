//! The frame around every page: skip link, header with navigation, main region, footer.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::{
    api::auth::SignOut, components::recovery::Recovery, contexts::account::CurrentAccount,
};

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    view! {
        <div class="flex min-h-screen flex-col">
            <a
                href="#main"
                class="sr-only focus:not-sr-only focus:absolute focus:left-4 focus:top-4 focus:z-50 focus:rounded-lg focus:bg-white focus:px-4 focus:py-2 focus:shadow"
            >
                "Skip to content"
            </a>
            <header class="border-b border-stone-200 bg-white">
                // Phones: the name on one row, the navigation on the next; wider screens: one row.
                <div class="mx-auto flex w-full max-w-5xl flex-wrap items-center justify-between gap-x-4 px-4 py-1 sm:h-16 sm:flex-nowrap sm:px-6 sm:py-0">
                    <a
                        href="/"
                        aria-label="Speaking Coach, home"
                        class="focus-ring -mx-2 flex min-h-11 shrink-0 items-center gap-2 whitespace-nowrap rounded-lg px-2 text-lg font-semibold tracking-tight text-stone-900"
                    >
                        <Logo />
                        <span>"Speaking Coach"</span>
                    </a>
                    <nav aria-label="Main" class="w-full sm:w-auto">
                        <ul class="flex items-center justify-end gap-1">
                            // On phones the name above already leads to the topics.
                            <li class="hidden sm:block">
                                <A href="/topics" attr:class=NAV_LINK>
                                    "Topics"
                                </A>
                            </li>
                            <AccountNav />
                        </ul>
                    </nav>
                </div>
            </header>
            <main id="main" tabindex="-1" class="mx-auto w-full max-w-5xl flex-1 px-4 py-8 sm:px-6 sm:py-12">
                {children()}
            </main>
            <Recovery />
            <footer class="border-t border-stone-200 bg-white">
                <div class="mx-auto flex w-full max-w-5xl flex-col gap-1 px-4 py-6 text-sm text-stone-500 sm:flex-row sm:justify-between sm:px-6">
                    <p>"Your practice sessions are private unless you choose to share one."</p>
                    <p>"Speaking Coach"</p>
                </div>
            </footer>
        </div>
    }
}

const NAV_LINK: &str = "focus-ring flex min-h-11 items-center whitespace-nowrap rounded-lg px-1.5 text-[15px] sm:px-3 sm:text-base font-medium text-stone-600 hover:bg-stone-100 hover:text-stone-900 aria-[current=page]:text-teal-800";

/// "Sign in" for visitors; "Account" and "Sign out" for signed-in learners.
#[component]
fn AccountNav() -> impl IntoView {
    let CurrentAccount(account) = expect_context::<CurrentAccount>();
    let sign_out = ServerAction::<SignOut>::new();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match account.await {
                    Ok(Some(_)) => {
                        view! {
                            <li>
                                <A href="/history" attr:class=NAV_LINK>
                                    "History"
                                </A>
                            </li>
                            <li>
                                <A href="/progress" attr:class=NAV_LINK>
                                    "Progress"
                                </A>
                            </li>
                            <li>
                                <A href="/account" attr:class=NAV_LINK>
                                    "Account"
                                </A>
                            </li>
                            <li>
                                <ActionForm action=sign_out>
                                    <button type="submit" class=NAV_LINK>
                                        "Sign out"
                                    </button>
                                </ActionForm>
                            </li>
                        }
                            .into_any()
                    }
                    _ => {
                        view! {
                            <li>
                                <A href="/sign-in" attr:class=NAV_LINK>
                                    "Sign in"
                                </A>
                            </li>
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn Logo() -> impl IntoView {
    view! {
        <svg
            aria-hidden="true"
            viewBox="0 0 32 32"
            class="h-8 w-8 text-teal-700"
            fill="none"
            stroke="currentColor"
            stroke-width="2.2"
            stroke-linecap="round"
            stroke-linejoin="round"
        >
            <path d="M6 8.5A3.5 3.5 0 0 1 9.5 5h13A3.5 3.5 0 0 1 26 8.5v9a3.5 3.5 0 0 1-3.5 3.5H14l-6 5v-5.2A3.5 3.5 0 0 1 6 17.5z" />
            <path d="M12 11.5v3M16 9.5v7M20 11.5v3" />
        </svg>
    }
}
