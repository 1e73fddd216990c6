import { test, expect, sessionShown } from "./fixtures";
import { openCheck, queueTranscripts, signUp, simControl, startQuietly, watchMicrophone } from "./calls";

// The coach's feedback after real calls: the learner's turn is what the simulator is told they
// said (it cannot understand speech), the review comes from the simulator's Responses API (a rule
// set that recognises common learner errors). Calls share the one simulator, so this file runs
// on its own, after the other call specs.

test.skip(!process.env.FAKE_MIC_WAV, "needs the fake microphone recording from script/test");
test.describe.configure({ mode: "serial" });

test.beforeEach(async ({ page }) => {
  await watchMicrophone(page);
});

const SAID = "I am agree with you. She don't like coffee.";

/** One conversation: the greeting, the learner's turn (`said`), then End; answers on the summary. */
async function converse(page: import("@playwright/test").Page, said: string) {
  await queueTranscripts(page, [said]);
  await openCheck(page);
  await startQuietly(page);
  const coach = page.locator('[data-speaker="coach"]');
  await expect(coach.first()).toHaveAttribute("data-state", "Final", { timeout: 20_000 });
  await page.evaluate(() => (window as any).__mic.speak());
  const learner = page.locator('[data-speaker="learner"]');
  await expect(learner.first()).toHaveAttribute("data-state", "Final", { timeout: 25_000 });
  await page.evaluate(() => (window as any).__mic.quiet());
  await expect(learner.first()).toContainText(said);
  await page.getByRole("button", { name: "End session" }).click();
  await expect(page).toHaveURL(/\/practice\/[0-9a-f-]{36}$/);
}

test("the feedback appears on the summary by itself, and a correction plays its turn", async ({ page, baseURL }) => {
  test.setTimeout(120_000);
  await signUp(page, baseURL!, "feedback");
  // The "model" takes 3 s, so the summary opens while the feedback is being prepared.
  const held = await simControl(page, "responses", {
    outcomes: [{ kind: "timeout", seconds: 3 }],
  });
  expect(held.status()).toBe(204);
  await converse(page, SAID);

  const section = page.getByTestId("how-you-spoke");
  await expect(section.getByRole("heading", { name: "How you spoke" })).toBeVisible();
  await expect(page.getByTestId("feedback-preparing")).toBeVisible();
  // No reload: a mark left on this document is still there when the feedback shows.
  await page.evaluate(() => ((window as any).__samePage = true));
  const corrections = page.getByTestId("correction");
  await expect(corrections.first()).toBeVisible({ timeout: 20_000 });
  expect(await page.evaluate(() => (window as any).__samePage)).toBe(true);

  await expect(corrections).toHaveCount(2);
  await expect(corrections.nth(0).getByTestId("correction-original")).toHaveText("I am agree with you.");
  await expect(corrections.nth(0).getByTestId("correction-corrected")).toHaveText("I agree with you.");
  await expect(corrections.nth(1).getByTestId("correction-corrected")).toHaveText("She doesn't like coffee.");
  await expect(page.getByTestId("feedback-pace")).toHaveText(/\d+ wpm/);
  await expect(page.getByTestId("feedback-level-none")).toContainText("Not enough speech to estimate a level");
  await expect(page.getByTestId("strengths").locator("li")).toHaveCount(2);

  // Choosing the correction plays the learner's turn in the replay: it is the turn heard.
  const session = sessionShown(page);
  const turns: { item_id: string; speaker: string; start_ms: number }[] = await (
    await page.request.get(`/api/practice/turns?session=${session}`)
  ).json();
  const item = await corrections.nth(0).getAttribute("data-item");
  const index = turns.findIndex((turn) => turn.item_id === item);
  expect(turns[index].speaker).toBe("Learner");
  await corrections.nth(0).getByRole("button", { name: "Hear it in the recording" }).click();
  const turnButton = page.locator(`#turn-${index}`);
  await expect(turnButton).toHaveAttribute("aria-current", "true");
  const position = () => page.getByTestId("summary-audio").evaluate((a: HTMLAudioElement) => a.currentTime);
  await expect.poll(position).toBeGreaterThanOrEqual(turns[index].start_ms / 1000 - 0.1);
  expect(await position()).toBeLessThan(turns[index].start_ms / 1000 + 1.5);

  // History carries its line.
  await page.goto("/history");
  await expect(page.getByTestId("history-feedback").first()).toContainText("2 corrections");
});

test("after three sessions the progress page shows three points on each chart", async ({ page, baseURL }) => {
  test.setTimeout(180_000);
  await signUp(page, baseURL!, "progress");
  for (const said of [SAID, "Um, the coffee is more better here.", "I would like a small cup of tea, please."]) {
    await converse(page, said);
    await expect(page.getByTestId("feedback-pace").or(page.getByTestId("feedback-empty"))).toBeVisible({
      timeout: 20_000,
    });
  }
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Progress" }).click();
  await expect(page).toHaveURL(/\/progress$/);
  await expect(page.getByTestId("progress-summary")).toContainText("Your last 3 sessions");
  for (const chart of ["pace", "fillers", "share", "words"]) {
    await expect(page.getByTestId(`chart-${chart}`).getByTestId("chart-point")).toHaveCount(3);
  }
  // The numbers are there as a table too.
  const pace = page.getByTestId("chart-pace");
  await pace.getByText("Pace as a table").click();
  await expect(pace.locator("tbody tr")).toHaveCount(3);
});
