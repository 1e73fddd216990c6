import { test, expect, sessionShown } from "./fixtures";
import type { Page } from "@playwright/test";
import { openCheck, queueFaults, queueTranscripts, signUp, startQuietly, toneMicrophone } from "./calls";

// The coach's replies as OpenAI sends them over WebRTC (the simulator does the same): the whole
// text well ahead of the voice, the reply final only once its audio has played. A learner who
// talks over the coach cuts it off: the turn is interrupted and keeps what was heard. A learner's
// transcription that comes after the coach began answering still lands where they spoke. A reply
// that fails is said so. The learner speaks through a tone the test switches on and off, at a
// known moment (the simulator cannot understand words: what was "said" is queued).

test.skip(!process.env.FAKE_MIC_WAV, "runs with the other call specs, from script/test");
test.describe.configure({ mode: "serial" });

test.beforeEach(async ({ page }) => {
  await toneMicrophone(page);
});

const GREETING = /Tell me how you'd like to begin\.$/;
const coach = (page: Page) => page.locator('[data-speaker="coach"]');
const learner = (page: Page) => page.locator('[data-speaker="learner"]');
const speakFor = async (page: Page, ms: number) => {
  await page.evaluate(() => (window as any).__mic.speak());
  await page.waitForTimeout(ms);
  await page.evaluate(() => (window as any).__mic.quiet());
};

test("talking over the coach cuts it off: interrupted, with what was heard, live and in the replay", async ({
  page,
  baseURL,
}) => {
  test.setTimeout(90_000);
  await signUp(page, baseURL!, "barge-in");
  await queueTranscripts(page, ["Sorry, can I order now?"]);
  await openCheck(page);
  await startQuietly(page);

  // The greeting's whole text is on the page long before it has been spoken: not final yet.
  const greeting = coach(page).first();
  await expect(greeting.locator("[data-turn-text]")).toHaveText(GREETING, { timeout: 15_000 });
  await expect(greeting).toHaveAttribute("data-state", "InProgress");
  const full = (await greeting.locator("[data-turn-text]").textContent())!.trim();
  await expect(page.getByTestId("live-call")).toHaveAttribute("data-coach-heard", "true", { timeout: 10_000 });

  // Two seconds into the greeting, the learner talks over it.
  await page.waitForTimeout(2_000);
  await speakFor(page, 1_500);
  await expect(greeting).toHaveAttribute("data-state", "Interrupted", { timeout: 10_000 });
  await expect(greeting).toContainText("Interrupted");
  const heard = (await greeting.locator("[data-turn-text]").textContent())!.trim();
  expect(heard.length, `"${heard}" of "${full}"`).toBeGreaterThan(5);
  expect(heard.length).toBeLessThan(full.length / 2);
  expect(full.startsWith(heard)).toBe(true);

  // The learner's turn, then the coach's answer to it, heard out.
  await expect(learner(page).first()).toHaveAttribute("data-state", "Final", { timeout: 20_000 });
  await expect(learner(page).first()).toContainText("Sorry, can I order now?");
  await expect(coach(page).nth(1)).toHaveAttribute("data-state", "Final", { timeout: 30_000 });

  await page.getByRole("button", { name: "End session" }).click();
  await expect(page).toHaveURL(/\/practice\/[0-9a-f-]{36}$/, { timeout: 30_000 });
  const session = sessionShown(page);
  const saved = page.getByTestId("saved-transcript").locator("li");
  await expect(saved.first()).toContainText("Interrupted");
  await expect(saved.first().locator("[data-turn-text]")).toHaveText(heard);
  const turns = (await (await page.request.get(`/api/practice/turns?session=${session}`)).json()) as {
    speaker: string;
    state: string;
    text: string;
    start_ms: number;
    end_ms: number;
  }[];
  expect(turns.map((t) => [t.speaker, t.state])).toEqual([
    ["Coach", "Interrupted"],
    ["Learner", "Final"],
    ["Coach", "Final"],
  ]);
  expect(turns[0].text).toBe(heard);
  // The greeting lasts as long as it played: about two seconds, not its whole length.
  const played = turns[0].end_ms - turns[0].start_ms;
  expect(played).toBeGreaterThan(1_000);
  expect(played).toBeLessThan(4_500);
});

test("a transcription that comes after the coach began answering lands where the learner spoke", async ({
  page,
  baseURL,
}) => {
  test.setTimeout(90_000);
  await signUp(page, baseURL!, "late-transcript");
  await queueTranscripts(page, ["I would like a large tea."]);
  await queueFaults(page, [{ kind: "transcription_late" }]);
  await openCheck(page);
  await startQuietly(page);
  await expect(coach(page).first()).toHaveAttribute("data-state", "Final", { timeout: 30_000 });

  await speakFor(page, 1_500);
  // The coach's answer is on the page while the learner's words are still being transcribed.
  await expect(coach(page).nth(1)).toBeVisible({ timeout: 20_000 });
  await expect(learner(page).first()).toHaveAttribute("data-state", "InProgress");
  // Then they land, in their place: before the answer.
  await expect(learner(page).first()).toHaveAttribute("data-state", "Final", { timeout: 10_000 });
  await expect(learner(page).first()).toContainText("I would like a large tea.");
  const speakers = await page
    .locator("[data-speaker]")
    .evaluateAll((turns) => turns.map((t) => (t as HTMLElement).dataset.speaker).join(" "));
  expect(speakers).toBe("coach learner coach");
  await expect(coach(page).nth(1)).toHaveAttribute("data-state", "Final", { timeout: 30_000 });

  await page.getByRole("button", { name: "End session" }).click();
  await expect(page).toHaveURL(/\/practice\/[0-9a-f-]{36}$/, { timeout: 30_000 });
  const saved = page.getByTestId("saved-transcript").locator("li");
  await expect(saved).toHaveCount(3);
  await expect(saved.nth(1)).toContainText("I would like a large tea.");
});

test("a reply that fails is said so and asked for again", async ({ page, baseURL }) => {
  test.setTimeout(60_000);
  await signUp(page, baseURL!, "failed-reply");
  // The greeting fails once (a server error at OpenAI).
  await queueFaults(page, [{ kind: "response_fails", code: "server_error" }]);
  await openCheck(page);
  await startQuietly(page);
  await expect(page.getByTestId("saving-problem")).toContainText("Your coach couldn't answer just then", {
    timeout: 15_000,
  });
  // Asked again, the greeting comes, and the message goes.
  await expect(coach(page).first()).toHaveAttribute("data-state", "Final", { timeout: 30_000 });
  await expect(page.getByTestId("saving-problem")).toBeHidden();
  await expect(page.getByTestId("call-status")).toContainText("Live");
});

test("out of quota the call stops, says why, and keeps the session", async ({ page, baseURL }) => {
  test.setTimeout(60_000);
  await signUp(page, baseURL!, "out-of-quota");
  await queueFaults(page, [{ kind: "response_fails", code: "insufficient_quota" }]);
  await openCheck(page);
  // The greeting fails the moment the call is up: it goes Live and stops at once.
  const start = page.getByRole("button", { name: "Start conversation" });
  await expect(start).toBeEnabled();
  await start.click();
  const failure = page.getByRole("alert").filter({ hasText: "We couldn't reach your coach" });
  await expect(failure).toBeVisible({ timeout: 20_000 });
  await expect(failure).toContainText("run out of credit");
  await expect(failure.getByRole("button", { name: /try again/i })).toHaveCount(0);
  await expect.poll(() => page.evaluate(() => (window as any).__mic.allStopped()), { timeout: 10_000 }).toBe(true);
});
