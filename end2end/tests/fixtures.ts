import { test as base, expect } from "@playwright/test";

// Every page must load without console errors (a failed hydration logs one) or uncaught
// exceptions. Tests that use `page` from here fail when that happens.
export const test = base.extend<{ consoleErrors: string[] }>({
  consoleErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on("console", (message) => {
        if (message.type() !== "error") return;
        // A 404 page is itself reported as a failed load; that one is expected.
        const isDocument = message.location().url === page.url();
        if (isDocument && message.text().startsWith("Failed to load resource")) return;
        errors.push(`${message.text()} (${message.location().url})`);
      });
      page.on("pageerror", (error) => errors.push(error.message));
      await use(errors);
      expect(errors, "console errors on the page").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

/** Waits until the wasm bundle has hydrated the page (the client router then owns links). */
export async function waitForHydration(page: import("@playwright/test").Page) {
  await page.waitForFunction(() => document.documentElement.dataset.hydrated === "true");
}
