import type { BrowserContext, Page } from "@playwright/test";
import { test, expect, fetchesBundle, sessionShown, waitForHydration } from "./fixtures";
import {
  LEARNER_SAYS,
  elapsedSeconds,
  greetAndAnswer,
  openCheck,
  queueTranscripts,
  recordedSeconds,
  signIn,
  signUp,
  startQuietly,
  watchMicrophone,
} from "./calls";

// Nothing lost when the page goes away mid-call. The simulator is shared, so these run one at a
// time in their own project, after the practice specs.

test.skip(!process.env.FAKE_MIC_WAV, "needs the fake microphone recording from script/test");
test.describe.configure({ mode: "serial" });

const CHUNK_UPLOADS = "**/api/practice/*/chunks/*";
const TURN_SAVES = "**/api/practice/turn";

/** The learner opens the app again in `context`: recovery runs, its notice names the session, and
 * its link opens the summary (the page answered). */
async function comeBack(context: BrowserContext) {
  const again = await context.newPage();
  await again.goto("/topics");
  await waitForHydration(again);
  const notice = again.getByTestId("recovered-notice");
  await expect(notice).toContainText("We saved your interrupted session", { timeout: 30_000 });
  await expect(notice).toContainText("Ordering at a café");
  await notice.getByRole("link", { name: "see what was said" }).click();
  await expect(again).toHaveURL(/\/practice\/[0-9a-f-]{36}$/);
  return again;
}

/** The recovered summary in `page` holds every turn the closed page showed (`said`), though none
 * reached the server before, and a recording of the call's `elapsed` seconds, less at most the
 * chunk being recorded (4 s). Answers the recording's length. */
async function expectKept(page: Page, said: string[], elapsed: number) {
  const saved = page.getByTestId("saved-transcript").locator("li");
  await expect(saved.filter({ hasText: LEARNER_SAYS })).toHaveCount(1);
  expect(await saved.locator("[data-turn-text]").allTextContents()).toEqual(said);
  const recorded = await recordedSeconds(page);
  expect(recorded).toBeGreaterThanOrEqual(elapsed - 5);
  expect(recorded).toBeLessThanOrEqual(elapsed + 5);
  return recorded;
}

test.describe("with the connection to the app down for uploads", () => {
  // Every refused chunk upload is logged by Chromium; that is the point of this test.
  test.use({ allowedConsoleErrors: [/ERR_INTERNET_DISCONNECTED/] });

  test("a tab closed mid-call: the browser kept the recording and the turns and sends them when the learner comes back", async ({
    page,
    context,
    baseURL,
  }) => {
    test.setTimeout(120_000);
    await watchMicrophone(context);
    await signUp(page, baseURL!, "closed-tab");
    await queueTranscripts(page, [LEARNER_SAYS]);
    // No chunk and no turn reaches the server during this call: all of them wait in the browser.
    let refused = 0;
    let turnsRefused = 0;
    await page.route(CHUNK_UPLOADS, (route) => {
      refused += 1;
      return route.abort("internetdisconnected");
    });
    await page.route(TURN_SAVES, (route) => {
      turnsRefused += 1;
      return route.abort("internetdisconnected");
    });

    await openCheck(page);
    await startQuietly(page);
    await greetAndAnswer(page);
    await expect(page.locator('[data-speaker="coach"]').nth(1)).toHaveAttribute("data-state", "Final", {
      timeout: 20_000,
    });
    const elapsed = await elapsedSeconds(page);
    expect(refused, "uploads were attempted and failed").toBeGreaterThan(1);
    expect(turnsRefused, "turn saves were attempted and failed").toBeGreaterThanOrEqual(3);
    const said = await page.locator('[data-state="Final"] [data-turn-text]').allTextContents();
    expect(said.length, "greeting, answer, reply").toBeGreaterThanOrEqual(3);
    await page.close();

    // The learner opens the app again: the recording goes up from the browser's outbox and the
    // session is recovered.
    const again = await comeBack(context);
    await expectKept(again, said, elapsed);
    const duration = await again
      .getByTestId("summary-audio")
      .evaluate(
        (audio: HTMLAudioElement) =>
          new Promise<number>((resolve) =>
            audio.readyState >= 1 ? resolve(audio.duration) : audio.addEventListener("loadedmetadata", () => resolve(audio.duration)),
          ),
      );
    expect(Number.isFinite(duration)).toBe(true);
    // Done once: nothing is left to recover on the next visit, so the page does not even load
    // the wasm that recovers.
    expect(await fetchesBundle(again, "/topics")).toBe(false);
    await expect(again.getByTestId("recovered-notice")).toHaveCount(0);
  });

  test("a call that came up while the app was out of reach: the tab closed, and recovery makes the session with everything in it", async ({
    page,
    context,
    baseURL,
  }) => {
    test.setTimeout(120_000);
    await watchMicrophone(context);
    await signUp(page, baseURL!, "never-started");
    await queueTranscripts(page, [LEARNER_SAYS]);
    await openCheck(page);
    await expect(page.getByRole("button", { name: "Start conversation" })).toBeEnabled();
    // The coach answers, but from Start on the app itself cannot be reached: no session row,
    // no chunk, no turn gets to it.
    let starts = 0;
    await page.route("**/api/practice/start", (route) => {
      starts += 1;
      return route.abort("internetdisconnected");
    });
    await page.route(CHUNK_UPLOADS, (route) => route.abort("internetdisconnected"));
    await page.route(TURN_SAVES, (route) => route.abort("internetdisconnected"));
    await startQuietly(page);
    await greetAndAnswer(page);
    await expect(page.getByTestId("saving")).toContainText("saving…");
    await expect(page.getByTestId("saving-problem")).toContainText("This session isn't saved yet", { timeout: 15_000 });
    const said = await page.locator('[data-state="Final"] [data-turn-text]').allTextContents();
    const elapsed = await elapsedSeconds(page);
    expect(starts, "the page kept trying to start the session").toBeGreaterThanOrEqual(4);
    await page.close();

    const again = await comeBack(context);
    const recorded = await expectKept(again, said, elapsed);
    // It starts when the call came up, not when it was recovered: it lasted as long as the call.
    const [minutes, seconds] = (await again.getByTestId("summary-duration").textContent())!.split(":").map(Number);
    expect(Math.abs(minutes * 60 + seconds - recorded)).toBeLessThanOrEqual(3);
  });
});

test("reloading mid-call keeps what was said and recorded", async ({ page, baseURL }) => {
  test.setTimeout(120_000);
  await watchMicrophone(page);
  await signUp(page, baseURL!, "reload");
  await queueTranscripts(page, [LEARNER_SAYS]);
  await openCheck(page);
  await startQuietly(page);
  await greetAndAnswer(page);
  const elapsed = await elapsedSeconds(page);

  await page.reload();
  const notice = page.getByTestId("recovered-notice");
  await expect(notice).toContainText("We saved your interrupted session", { timeout: 30_000 });
  // The practice page is ready for another go, and the interrupted one is a click away.
  await expect(page.getByRole("button", { name: "Start conversation" })).toBeEnabled();
  const summary = await notice.getByRole("link", { name: "see what was said" }).getAttribute("href");
  // The learner can put the notice away.
  await notice.getByRole("button", { name: "Dismiss" }).click();
  await expect(notice).toHaveCount(0);
  await page.goto(summary!);
  await expect(page.getByTestId("saved-transcript").locator("li").filter({ hasText: LEARNER_SAYS })).toHaveCount(1);
  expect(await recordedSeconds(page)).toBeGreaterThanOrEqual(elapsed - 5);
});

test("history shows a session whose page is gone, and recovers it with one click", async ({
  page,
  browser,
  baseURL,
}) => {
  test.setTimeout(120_000);
  await watchMicrophone(page);
  const learner = await signUp(page, baseURL!, "history");
  await queueTranscripts(page, [LEARNER_SAYS]);
  await openCheck(page);
  await startQuietly(page);
  await greetAndAnswer(page);
  // Everything was uploaded as it was recorded; then the page is gone without End.
  await page.waitForTimeout(4_500);
  const elapsed = await elapsedSeconds(page);
  await page.close({ runBeforeUnload: false });

  // On another device (a fresh browser context), the learner finds it in history.
  const elsewhere = await browser.newContext({ baseURL });
  try {
    const other = await elsewhere.newPage();
    await signIn(other, baseURL!, learner.email);
    await other.goto("/history");
    const entry = other.getByTestId("history-entry").first();
    await expect(entry).toContainText("Ordering at a café");
    // Quiet for PRACTICE_QUIET_SECS (a few seconds under script/test): it needs recovery.
    await expect
      .poll(
        async () => {
          await other.reload();
          return other.getByTestId("history-entry").first().getAttribute("data-state");
        },
        { timeout: 30_000, intervals: [1_000] },
      )
      .toBe("Needs recovery");
    await other.getByTestId("history-entry").first().getByRole("button", { name: /^Recover Ordering at a café/ }).click();
    await expect(other.getByTestId("history-entry").first()).toHaveAttribute("data-state", "Saved", {
      timeout: 20_000,
    });
    await other.getByTestId("history-entry").first().getByRole("link", { name: "Ordering at a café" }).click();
    await expect(other).toHaveURL(/\/practice\/[0-9a-f-]{36}$/);
    await expect(other.getByTestId("saved-transcript").locator("li").filter({ hasText: LEARNER_SAYS })).toHaveCount(1);
    const recorded = await recordedSeconds(other);
    expect(recorded).toBeGreaterThanOrEqual(elapsed - 5);
    expect(recorded).toBeLessThanOrEqual(elapsed + 5);

    // Sharing is a choice: a link, opened by someone without an account, plays the session;
    // revoking it stops it at once.
    await expect(other.getByTestId("share-session")).toContainText("Private");
    await other.getByRole("button", { name: "Create a share link" }).click();
    const shareUrl = other.getByTestId("share-url");
    await expect(shareUrl).toHaveValue(/\/shared\/[0-9a-f]{64}$/);
    await expect(other.getByTestId("share-session")).toContainText("Shared");
    const link = new URL(await shareUrl.inputValue());
    const stranger = await browser.newContext({ baseURL });
    try {
      const view = await stranger.newPage();
      await view.goto(link.pathname);
      await waitForHydration(view);
      await expect(view.getByRole("heading", { name: "Ordering at a café" })).toBeVisible();
      await expect(view.getByTestId("saved-transcript").locator("li").filter({ hasText: LEARNER_SAYS })).toHaveCount(1);
      expect(await view.content()).not.toContain(learner.email);
      const playedTo = await view.getByTestId("summary-audio").evaluate(async (audio: HTMLAudioElement) => {
        audio.muted = true;
        await audio.play();
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        return audio.currentTime;
      });
      expect(playedTo).toBeGreaterThan(0.3);

      await other.getByRole("button", { name: "Stop sharing" }).click();
      await expect(other.getByTestId("share-session")).toContainText("Private");
      const gone = await view.goto(link.pathname);
      expect(gone!.status()).toBe(404);
    } finally {
      await stranger.close();
    }

    // Deleting it, once confirmed, removes it and its recording for good.
    const session = sessionShown(other);
    expect((await other.request.get(`/api/practice/${session}/recording`)).status()).toBe(200);
    await other.getByText("Delete this session").click();
    await other.getByRole("button", { name: "Delete for good" }).click();
    await expect(other).toHaveURL(/\/history$/);
    await expect(other.getByText("No sessions yet")).toBeVisible();
    expect((await other.request.get(`/api/practice/${session}/recording`)).status()).toBe(404);
  } finally {
    await elsewhere.close();
  }
});

test("signed out mid-call: the call goes on, the page asks to sign in again, and then everything is saved", async ({
  page,
  context,
  baseURL,
}) => {
  test.setTimeout(150_000);
  await watchMicrophone(context);
  const { email, password } = await signUp(page, baseURL!, "signed-out");
  const AGAIN = "Could I also have a croissant?";
  await queueTranscripts(page, [LEARNER_SAYS, AGAIN]);
  await openCheck(page);
  await startQuietly(page);
  await greetAndAnswer(page);

  // The learner signs out in another tab: the server forgets the sign-in this call page used.
  const other = await context.newPage();
  await other.goto("/account");
  await other.getByRole("main").getByRole("button", { name: "Sign out" }).click();
  await expect(other).toHaveURL(/\/$/);
  await other.close();

  // The next chunk upload is refused (401): the page keeps it, says why and how to go on.
  const problem = page.getByTestId("saving-problem");
  await expect(problem).toContainText("You've been signed out", { timeout: 15_000 });
  await expect(page.getByTestId("call-status")).toContainText("Live");
  // Still talking while signed out: this turn waits too.
  await page.evaluate(() => (window as any).__mic.speak());
  const again = page.locator('[data-speaker="learner"]').filter({ hasText: AGAIN });
  await expect(again).toHaveAttribute("data-state", "Final", { timeout: 25_000 });
  await page.evaluate(() => (window as any).__mic.quiet());
  await expect(page.getByTestId("saving")).toContainText("saving…");

  // Sign in again from the page's own link, in a new tab; the call page stays as it is.
  const [signIn] = await Promise.all([
    context.waitForEvent("page"),
    page.getByTestId("sign-in-again").click(),
  ]);
  await signIn.waitForLoadState();
  await signIn.getByLabel("Email").fill(email);
  await signIn.getByLabel("Password").fill(password);
  await signIn.getByRole("button", { name: "Sign in" }).click();
  // Signed in: the new tab went on to history (its path, not the sign-in page's `?next=/history`).
  await expect(signIn).toHaveURL(/\/\/[^/]+\/history$/);
  await signIn.close();

  // Everything held back goes up by itself: the note goes, and all is saved.
  await expect(problem).toBeHidden({ timeout: 15_000 });
  await expect(page.getByTestId("saving")).toContainText("saved", { timeout: 15_000 });
  await expect(page.getByTestId("call-status")).toContainText("Live");
  // The coach's answer to the second sentence is heard out before End (a reply cut off by End
  // would be kept as far as it got, marked interrupted: another test's subject).
  await expect(page.locator('[data-speaker="coach"]').nth(2)).toHaveAttribute("data-state", "Final", {
    timeout: 20_000,
  });
  const said = await page.locator('[data-state="Final"] [data-turn-text]').allTextContents();
  const elapsed = await elapsedSeconds(page);
  await page.getByRole("button", { name: "End" }).click();
  await expect(page).toHaveURL(/\/practice\/[0-9a-f-]{36}$/, { timeout: 60_000 });

  // Every turn, the one said while signed out included, and a recording of the whole call.
  const saved = page.getByTestId("saved-transcript").locator("li");
  await expect(saved.filter({ hasText: AGAIN })).toHaveCount(1);
  expect(await saved.locator("[data-turn-text]").allTextContents()).toEqual(said);
  await expect(page.getByTestId("summary-recording")).not.toContainText("missing");
  const recorded = await recordedSeconds(page);
  expect(recorded).toBeGreaterThanOrEqual(elapsed - 1);
  expect(recorded).toBeLessThanOrEqual(elapsed + 2);
});
