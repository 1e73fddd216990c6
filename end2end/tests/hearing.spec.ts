import { test, expect } from "./fixtures";
import { openCheck, signUp, spoken, startQuietly, voiceMicrophone } from "./calls";

// The simulator hears the learner: nothing is queued here, the learner's turn is what its speech
// recognizer (Whisper tiny.en, installed by script/setup) made of a sentence spoken into the
// call. The sentence has an error the coach corrects, and some of the topic's words.

test.skip(!process.env.FAKE_MIC_WAV, "needs the end-to-end setup of script/test");
test.describe.configure({ mode: "serial" });

const SAID = "She don't like coffee, so I would like a large tea, thank you.";

test("what the learner says is transcribed, ticks the topic's words and is corrected in the feedback", async ({
  page,
  baseURL,
}) => {
  test.setTimeout(120_000);
  await voiceMicrophone(page);
  await signUp(page, baseURL!, "hearing");
  await openCheck(page);
  await startQuietly(page);
  const coach = page.locator('[data-speaker="coach"]');
  await expect(coach.first()).toHaveAttribute("data-state", "Final", { timeout: 20_000 });

  expect(await page.evaluate((wav) => (window as any).__mic.say(wav), spoken(SAID))).toBe(1);
  const learner = page.locator('[data-speaker="learner"]');
  await expect(learner.first()).toHaveAttribute("data-state", "Final", { timeout: 20_000 });
  // The voice detection may hear the comma's pause as the end of a turn: every learner turn is
  // settled before they are read together.
  await expect(page.locator('[data-speaker="learner"][data-state="InProgress"]')).toHaveCount(0, {
    timeout: 20_000,
  });
  const said = (await learner.locator("[data-turn-text]").allTextContents()).join(" ");
  // Whisper's words, not a placeholder; the error kept as said.
  expect(said).not.toContain("simulated transcript");
  const words = said.toLowerCase().replace(/[^a-z']+/g, " ");
  expect(words).toContain("she don't like coffee");
  expect(words).toContain("large");
  expect(words).toContain("thank you");

  // The topic's words the learner said tick (Whisper tiny may miss the rest of the sentence).
  const used = page.getByRole("list", { name: "Target vocabulary" }).locator('[data-used="true"]');
  await expect(used.filter({ hasText: "large" })).toHaveCount(1);
  await expect(used.filter({ hasText: "thank you" })).toHaveCount(1);

  await expect(coach.nth(1)).toHaveAttribute("data-state", "Final", { timeout: 20_000 });
  await page.getByRole("button", { name: "End session" }).click();
  await expect(page).toHaveURL(/\/practice\/[0-9a-f-]{36}$/);
  const corrections = page.getByTestId("correction");
  await expect(corrections.first()).toBeVisible({ timeout: 20_000 });
  await expect(corrections.first().getByTestId("correction-corrected")).toContainText("She doesn't like coffee");
  await expect(page.getByTestId("feedback-pace")).toHaveText(/\d+ wpm/);
});
