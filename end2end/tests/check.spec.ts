import { test, expect, waitForHydration } from "./fixtures";
import { signUp } from "./calls";

// What the pre-call check tells a learner whose browser or microphone cannot take part, or who
// asked for too many call secrets. No call is started (a page that gets ready opens its warm
// call, which hears nothing and closes with the page): these run with the page specs.

const PRACTICE = "/topics/ordering-at-a-cafe/practice";

const MIC_ERRORS = [
  { error: "NotFoundError", heading: "No microphone found", advice: "Connect a headset or a microphone" },
  { error: "NotReadableError", heading: "Your microphone is busy", advice: "Another app or browser tab is using it" },
];

for (const { error, heading, advice } of MIC_ERRORS) {
  test(`a microphone the browser answers with ${error} is explained, and Try again asks again`, async ({
    page,
    baseURL,
  }) => {
    // The browser's own answer to getUserMedia, as when no microphone is plugged in or another
    // program holds it; the learner then fixes it (`__micFixed`).
    await page.addInitScript((error) => {
      const devices = navigator.mediaDevices;
      const open = devices.getUserMedia.bind(devices);
      devices.getUserMedia = (constraints) =>
        (window as any).__micFixed ? open(constraints) : Promise.reject(new DOMException("Refused by the test", error));
    }, error);
    await signUp(page, baseURL!, `mic-${error}`);
    await page.goto(PRACTICE);
    await waitForHydration(page);
    await expect(page.getByRole("heading", { name: heading })).toBeVisible();
    await expect(page.getByRole("alert")).toContainText(advice);
    await expect(page.getByRole("button", { name: "Start conversation" })).toHaveCount(0);

    await page.evaluate(() => ((window as any).__micFixed = true));
    await page.getByRole("button", { name: "Try again" }).click();
    await expect(page.getByText("Your microphone is on")).toBeVisible();
    await expect(page.getByRole("button", { name: "Start conversation" })).toBeEnabled();
  });
}

test("a page opened without a secure connection says the microphone needs https", async ({ page, baseURL }) => {
  // Over plain http (other than localhost) browsers have no navigator.mediaDevices.
  await page.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, "mediaDevices", { get: () => undefined, configurable: true });
  });
  await signUp(page, baseURL!, "insecure");
  await page.goto(PRACTICE);
  await waitForHydration(page);
  await expect(page.getByRole("heading", { name: "Voice practice needs a secure connection" })).toBeVisible();
  await expect(page.getByRole("alert")).toContainText("https://");
  await expect(page.getByRole("button", { name: "Start conversation" })).toHaveCount(0);
  // Trying again would not help; going back does.
  await expect(page.getByRole("button", { name: "Try again" })).toHaveCount(0);
  await expect(page.getByRole("link", { name: "Back to the topic" })).toBeVisible();
});

test("a browser without WebRTC is told so on the practice page, and no call secret is asked for", async ({
  page,
  baseURL,
}) => {
  await page.addInitScript(() => {
    delete (window as any).RTCPeerConnection;
  });
  await signUp(page, baseURL!, "unsupported");
  const minted: string[] = [];
  page.on("request", (request) => {
    if (request.url().includes("/api/voice/start")) minted.push(request.url());
  });
  await page.goto(PRACTICE);
  await waitForHydration(page);
  await expect(page.getByRole("heading", { name: "This browser can't run voice practice" })).toBeVisible();
  await expect(page.getByRole("alert")).toContainText("recent Chrome, Edge, Firefox or Safari");
  await expect(page.getByRole("button", { name: "Try again" })).toHaveCount(0);
  expect(minted).toEqual([]);
});

test("after too many call secrets the learner is asked to wait, and can try again when the wait is over", async ({ page, baseURL }) => {
  await signUp(page, baseURL!, "too-many");
  // A learner may mint 10 secrets at once, then one every 6 seconds.
  for (let n = 0; n < 10; n++) {
    const minted = await page.request.post("/api/voice/start", {
      form: { topic: "ordering-at-a-cafe" },
      headers: { origin: baseURL!, accept: "application/json" },
    });
    expect(minted.status(), `secret ${n + 1}`).toBe(200);
  }
  const answers: number[] = [];
  page.on("response", (response) => {
    if (response.url().includes("/api/voice/start")) answers.push(response.status());
  });
  await page.goto(PRACTICE);
  await waitForHydration(page);
  await expect(page.getByRole("heading", { name: "Too many attempts" })).toBeVisible();
  await expect(page.getByRole("alert")).toContainText(/Please wait (1 second|[2-9] seconds), then try again\./);
  expect(answers).toEqual([429]);
  await expect(page.getByRole("button", { name: "Start conversation" })).toHaveCount(0);
  // The page counts the wait down, and Try again works once it is over.
  const retry = page.getByRole("button", { name: /^Try again/ });
  await expect(retry).toBeDisabled();
  await expect(retry).toHaveText(/^Try again in [1-9] s$/);
  await expect(page.getByRole("alert")).toContainText("You can try again now.", { timeout: 10_000 });
  await expect(retry).toBeEnabled();
  await retry.click();
  await expect(page.getByRole("button", { name: "Start conversation" })).toBeEnabled();
  expect(answers).toEqual([429, 200]);
});

test("a learner with two sessions going is told to end them before starting another, and can then", async ({
  page,
  baseURL,
}) => {
  await signUp(page, baseURL!, "two-going");
  // Two sessions left going (say, in two other tabs): the most one learner may have at once.
  const keys = ["0f6a8d1e-1111-4a6b-9c1d-2e3f4a5b6c7d", "0f6a8d1e-2222-4a6b-9c1d-2e3f4a5b6c7d"];
  const ids: string[] = [];
  for (const key of keys) {
    const started = await page.request.post("/api/practice/start", {
      form: { topic: "ordering-at-a-cafe", key },
      headers: { origin: baseURL!, accept: "application/json" },
    });
    expect(started.status()).toBe(200);
    ids.push((await started.json()).id);
  }
  await page.goto(PRACTICE);
  await waitForHydration(page);
  await expect(page.getByRole("heading", { name: "You've reached a limit" })).toBeVisible();
  await expect(page.getByRole("alert")).toContainText(
    "You already have 2 sessions going. End them, or recover them from History, before you start another.",
  );
  await expect(page.getByRole("button", { name: "Start conversation" })).toHaveCount(0);

  // The learner ends one of them; Try again now gets a call ready.
  const ended = await page.request.post("/api/practice/end", {
    data: { session: ids[0], turns: 0, words_used: [] },
    headers: { origin: baseURL!, accept: "application/json" },
  });
  expect(ended.status()).toBe(200);
  await page.getByRole("button", { name: /^Try again/ }).click();
  await expect(page.getByRole("button", { name: "Start conversation" })).toBeEnabled();
});
