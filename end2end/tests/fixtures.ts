import { test as base, expect } from "@playwright/test";

// Every page must load without console errors (a failed hydration logs one) or uncaught
// exceptions. Tests that use `page` from here fail when that happens.
// A test that provokes a server error on purpose names it in `allowedConsoleErrors`.
export const test = base.extend<{ consoleErrors: string[]; allowedConsoleErrors: RegExp[] }>({
  allowedConsoleErrors: [[], { option: true }],
  consoleErrors: [
    async ({ page, allowedConsoleErrors }, use) => {
      const errors: string[] = [];
      page.on("console", (message) => {
        if (message.type() !== "error") return;
        // Expected failed loads: a 404 page itself, and a server function answering a
        // learner's mistake (4xx) that the page then explains. Server errors (5xx) still fail.
        const url = message.location().url;
        const failedLoad = message.text().match(/^Failed to load resource: .* status of (\d+)/);
        if (failedLoad && failedLoad[1] === "404" && url === page.url()) return;
        if (failedLoad && failedLoad[1].startsWith("4") && new URL(url).pathname.startsWith("/api/")) return;
        const error = `${message.text()} (${message.location().url})`;
        if (allowedConsoleErrors.some((allowed) => allowed.test(error))) return;
        errors.push(error);
      });
      page.on("pageerror", (error) => errors.push(error.message));
      await use(errors);
      expect(errors, "console errors on the page").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

/** Counts the wasm bundle's downloads in `page` from now on, until `stop`. */
export function watchBundle(page: import("@playwright/test").Page) {
  let fetched = 0;
  const watch = (request: import("@playwright/test").Request) => {
    if (/\.wasm(\?|$)/.test(request.url())) fetched += 1;
  };
  page.on("request", watch);
  return { fetched: () => fetched, stop: () => page.off("request", watch) };
}

/** Opens `path` in `page` and answers whether the page fetched the wasm bundle. Only the call and
 * the replays load it at once; other pages load it only to recover what a closed page left. */
export async function fetchesBundle(page: import("@playwright/test").Page, path: string) {
  const bundle = watchBundle(page);
  await page.goto(path, { waitUntil: "networkidle" });
  bundle.stop();
  return bundle.fetched() > 0;
}

/** Waits until the wasm bundle has hydrated the page's islands (the call, the replay, the
 * recovery notice); the rest of every page is plain HTML. */
export async function waitForHydration(page: import("@playwright/test").Page) {
  await page.waitForFunction(() => document.documentElement.dataset.hydrated === "true");
}

/** The id of the session whose summary `page` shows (`/practice/{id}`; a form posted from it may
 * leave an empty query on the URL). */
export function sessionShown(page: import("@playwright/test").Page) {
  return new URL(page.url()).pathname.split("/").pop()!;
}
