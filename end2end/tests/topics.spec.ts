import { signUp } from "./calls";
import { test, expect, fetchesBundle, waitForHydration, watchBundle } from "./fixtures";

test.describe("topics, JavaScript on", () => {
  test("the topics page lists every topic and filters them, with no wasm to download", async ({ page }) => {
    expect(await fetchesBundle(page, "/topics")).toBe(false);
    await expect(page.getByRole("heading", { level: 1, name: "What would you like to talk about?" })).toBeVisible();
    const cards = page.getByRole("list", { name: "Practice topics" }).getByRole("listitem");
    await expect(cards).toHaveCount(12);
    await expect(page.getByText("12 topics")).toBeVisible();

    // Filtering is a plain link: the server renders the filtered list.
    const bundle = watchBundle(page);
    await page.getByRole("link", { name: "C1 · Advanced" }).click();
    await expect(page).toHaveURL(/\/topics\?level=C1$/);
    await expect(cards).toHaveCount(2);
    await expect(page.getByText("2 topics at C1")).toBeVisible();
    await expect(page.getByRole("link", { name: "C1 · Advanced" })).toHaveAttribute("aria-current", "page");
    expect(bundle.fetched()).toBe(0);
  });

  // The call page loads it (every call test waits for it to hydrate: `openCheck` in calls.ts).
  test("no page before the call loads the wasm bundle", async ({ page }) => {
    for (const path of ["/", "/topics/ordering-at-a-cafe", "/sign-in", "/sign-up"]) {
      expect(await fetchesBundle(page, path), path).toBe(false);
    }
  });

  // Recovery must not be skipped where the outbox cannot be looked into: a learner's page then
  // loads the recovery notice's island. A visitor has nothing to recover, so nothing loads.
  test("a browser that cannot list its databases loads the wasm, to recover what may be left", async ({ page, baseURL }) => {
    await page.addInitScript(() => {
      delete (IDBFactory.prototype as any).databases;
    });
    expect(await fetchesBundle(page, "/topics")).toBe(false);
    await signUp(page, baseURL!, "no-databases");
    expect(await fetchesBundle(page, "/topics")).toBe(true);
    await waitForHydration(page);
    await expect(page.getByRole("list", { name: "Practice topics" }).getByRole("listitem")).toHaveCount(12);
  });

  test("the home page shows the topics", async ({ page }) => {
    await page.goto("/");
    await expect(page.getByRole("list", { name: "Practice topics" }).getByRole("listitem")).toHaveCount(12);
  });

  test("a topic card opens the topic with its goal and vocabulary", async ({ page }) => {
    await page.goto("/topics");
    await page.getByRole("link", { name: /A job interview/ }).click();
    await expect(page).toHaveURL(/\/topics\/a-job-interview$/);
    await expect(page.getByRole("heading", { level: 1, name: "A job interview" })).toBeVisible();
    await expect(page).toHaveTitle("A job interview · Speaking Coach");
    const words = page.getByRole("list", { name: "Target vocabulary" }).getByRole("listitem");
    await expect(words).toHaveCount(8);
    await expect(words.filter({ hasText: "deadline" })).toHaveCount(1);
    await expect(page.getByText("B2")).toBeVisible();
    await expect(page.getByRole("link", { name: "Start practice" })).toHaveAttribute(
      "href",
      "/topics/a-job-interview/practice",
    );
  });
});

test.describe("topics, JavaScript off", () => {
  test.use({ javaScriptEnabled: false });

  test("the topics list and the level filter work without JavaScript", async ({ page }) => {
    await page.goto("/topics");
    const cards = page.getByRole("list", { name: "Practice topics" }).getByRole("listitem");
    await expect(cards).toHaveCount(12);
    await page.getByRole("link", { name: "A2 · Elementary" }).click();
    await expect(page).toHaveURL(/\/topics\?level=A2$/);
    await expect(cards).toHaveCount(3);
    await expect(page.getByText("3 topics at A2")).toBeVisible();
  });

  test("a topic page shows its vocabulary without JavaScript", async ({ page }) => {
    await page.goto("/topics/ordering-at-a-cafe");
    await expect(page.getByRole("heading", { level: 1, name: "Ordering at a café" })).toBeVisible();
    const words = page.getByRole("list", { name: "Target vocabulary" }).getByRole("listitem");
    await expect(words).toHaveCount(8);
    await expect(words.first()).toHaveText("I'd like");
  });
});

test("an unknown topic is a real not-found page with status 404", async ({ page }) => {
  const response = await page.goto("/topics/no-such-topic");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "We couldn't find that topic" })).toBeVisible();
  await page.getByRole("link", { name: "Browse topics" }).click();
  await expect(page).toHaveURL(/\/topics$/);
});

test("an unknown page is a real not-found page with status 404", async ({ page }) => {
  const response = await page.goto("/no/such/page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "We couldn't find that page" })).toBeVisible();
});

test("readyz reports the database as ready", async ({ request }) => {
  const response = await request.get("/readyz");
  expect(response.status()).toBe(200);
  expect(await response.json()).toEqual({ status: "ready", checks: { database: "ok", storage: "ok" } });
});

test("a browser that cannot make voice calls is told so before starting", async ({ page }) => {
  await page.addInitScript(() => {
    delete (window as any).RTCPeerConnection;
  });
  await page.goto("/topics/ordering-at-a-cafe");
  await expect(page.getByRole("alert")).toContainText("This browser can't run voice practice");
  await expect(page.getByRole("link", { name: "Start practice" })).toHaveCount(0);
});
