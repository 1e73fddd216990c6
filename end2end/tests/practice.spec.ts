import { execFileSync } from "node:child_process";
import { test, expect, sessionShown } from "./fixtures";
import {
  LEARNER_SAYS,
  counters,
  greetAndAnswer,
  micWhenLeft,
  openCheck,
  queueFaults,
  queueTranscripts,
  recordedSeconds,
  signUp,
  startQuietly,
  storedAudio,
  watchMicrophone,
} from "./calls";

// The product's own call client (Rust/WASM) in Chromium, talking over real WebRTC to the Realtime
// simulator mounted in the app. Chromium's fake microphone plays a spoken sentence (script/test
// makes it with espeak-ng) on a loop; the test decides when the learner "speaks" by enabling the
// fake track, as a learner would by talking or keeping quiet.
//
// The simulator is shared and its faults and queued transcripts go to the next call, so these
// tests run one at a time in their own Playwright project, after every other project.

test.skip(!process.env.FAKE_MIC_WAV, "needs the fake microphone recording from script/test");
test.describe.configure({ mode: "serial" });

test.beforeEach(async ({ page }) => {
  await watchMicrophone(page);
});

test("a spoken practice session: greeting, learner turn, reply, words ticked, summary", async ({ page, baseURL }) => {
  test.setTimeout(90_000);
  await signUp(page, baseURL!, "spoken");
  await queueTranscripts(page, [LEARNER_SAYS]);
  const before = await counters(page);

  await openCheck(page);
  await expect(page.getByText("Your microphone is on")).toBeVisible();
  await expect(page.getByText("Your coach is ready")).toBeVisible();
  // The meter moves with the (fake) voice.
  await expect
    .poll(async () => Number(await page.getByTestId("mic-meter").getAttribute("aria-valuenow")), { timeout: 15_000 })
    .toBeGreaterThan(30);

  // The call is already open (warm) while the learner looks at the check, and hears nothing:
  // the microphone is live on the page (the meter moves) but not one frame of it reached the
  // coach, and the coach made no reply.
  await expect.poll(async () => (await counters(page)).calls_started, { timeout: 10_000 }).toBe(before.calls_started + 1);
  await page.waitForTimeout(1_500);
  const warm = await counters(page);
  expect(warm.calls_started - before.calls_started, "one call, made during the check").toBe(1);
  expect(warm.audio_frames_received, "no learner audio before Start").toBe(before.audio_frames_received);
  expect(warm.responses, "no reply before Start").toBe(before.responses);

  await startQuietly(page);

  // The greeting: heard (energy on the remote track) and transcribed.
  const live = page.getByTestId("live-call");
  await expect(live).toHaveAttribute("data-coach-heard", "true", { timeout: 15_000 });
  const coach = page.locator('[data-speaker="coach"]');
  await expect(coach.first()).toHaveAttribute("data-state", "Final", { timeout: 20_000 });
  await expect(coach.first()).toContainText("Ordering at a café");
  await expect(page.getByTestId("call-status")).toHaveText(/Live — listening/);

  // The learner answers; the transcript shows their words, then the coach's reply after them.
  await page.evaluate(() => (window as any).__mic.speak());
  const learner = page.locator('[data-speaker="learner"]');
  await expect(learner.first()).toHaveAttribute("data-state", "Final", { timeout: 25_000 });
  await page.evaluate(() => (window as any).__mic.quiet());
  await expect(learner.first()).toContainText(LEARNER_SAYS);
  await expect(coach.nth(1)).toHaveAttribute("data-state", "Final", { timeout: 20_000 });
  // Coach, the learner (one turn, or two if the voice detector heard a pause in the sentence),
  // then the coach's reply: in spoken order.
  const speakers = (
    await page.locator("[data-speaker]").evaluateAll((turns) => turns.map((t) => (t as HTMLElement).dataset.speaker))
  ).join(" ");
  expect(speakers).toMatch(/^coach (learner )+coach/);

  // "a cup of" was said, and "I'd like" as "I would like".
  const words = page.getByRole("list", { name: "Target vocabulary" });
  await expect(words.locator('[data-used="true"]')).toHaveText([/I'd like/, /a cup of/]);
  await expect(page.getByTestId("words-count")).toHaveText("2 of 8 used");
  await expect(page.getByTestId("elapsed")).toContainText("/ 2:00");

  const marks = await page.evaluate(() =>
    performance.getEntriesByType("mark").map((m) => m.name).filter((n) => n.startsWith("sc:")),
  );
  for (const mark of ["sc:minted", "sc:call-open", "sc:start", "sc:greeting", "sc:answered", "sc:connected", "sc:first-audio"]) {
    expect(marks).toContain(mark);
  }
  const after = await counters(page);
  expect(after.calls_started, "Start used the warm call").toBe(warm.calls_started);
  expect(after.audio_frames_sent).toBeGreaterThan(before.audio_frames_sent + 100);
  expect(after.audio_frames_received).toBeGreaterThan(before.audio_frames_received + 50);

  // End: the call closes, the microphone is released, the summary opens.
  const settled = await page.locator('[data-speaker]:not([data-state="InProgress"])').count();
  const shown = await page
    .locator('[data-speaker]:not([data-state="InProgress"]) [data-turn-text]')
    .allTextContents();
  const during = (await counters(page)).calls_active;
  await page.getByRole("button", { name: "End session" }).click();
  await expect(page).toHaveURL(/\/practice\/[0-9a-f-]{36}$/);
  await expect(page.getByRole("heading", { name: "Ordering at a café" })).toBeVisible();
  await expect(page.getByTestId("summary-words")).toHaveText("2 / 8");
  await expect(page.getByTestId("summary-turns")).toHaveText(String(settled));
  await expect(page.getByText("You used 2 of the 8 words.")).toBeVisible();
  // The call page had released the microphone by itself before it made way for the summary.
  expect(await micWhenLeft(page)).toBe("released");
  await expect.poll(async () => (await counters(page)).calls_active, { timeout: 15_000 }).toBeLessThan(during);

  // The recording (both voices, in 4-second pieces) was uploaded during the call and assembled at
  // End; its length, read from the media, is the call's length.
  const recordedSecs = await recordedSeconds(page);
  const [minutes, seconds] = (await page.getByTestId("summary-duration").textContent())!.split(":").map(Number);
  expect(Math.abs(recordedSecs - (minutes * 60 + seconds))).toBeLessThanOrEqual(3);

  // The conversation was saved turn by turn during the call, in spoken order: what the page showed.
  const saved = page.getByTestId("saved-transcript").locator("li");
  await expect(saved.first()).toContainText("Ordering at a café");
  await expect(saved.filter({ hasText: LEARNER_SAYS })).toHaveCount(1);
  expect(await saved.locator("[data-turn-text]").allTextContents()).toEqual(shown);

  // The stored recording plays in Chromium, with a finite duration that is the call's...
  const player = page.getByTestId("summary-audio");
  const playable = await player.evaluate(async (audio: HTMLAudioElement) => {
    audio.muted = true;
    await audio.play();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    return { duration: audio.duration, playedTo: audio.currentTime };
  });
  expect(Number.isFinite(playable.duration)).toBe(true);
  expect(Math.abs(playable.duration - recordedSecs)).toBeLessThanOrEqual(1.5);
  expect(playable.playedTo).toBeGreaterThan(0.5);
  // ...and both voices are in it: loud where the coach greeted and where the learner spoke.
  const session = sessionShown(page);
  const turns: { speaker: string; start_ms: number; end_ms: number }[] = await (
    await page.request.get(`/api/practice/turns?session=${session}`)
  ).json();
  const greeting = turns.find((turn) => turn.speaker === "Coach")!;
  const answer = turns.find((turn) => turn.speaker === "Learner")!;
  const audio = await storedAudio(page, session, [
    [greeting.start_ms, greeting.end_ms],
    [answer.start_ms, answer.end_ms],
  ]);
  expect(Math.abs(audio.duration - playable.duration)).toBeLessThan(0.5);
  const [coachLoudness, learnerLoudness] = audio.loudness;
  expect(coachLoudness, "the coach is audible in the recording").toBeGreaterThan(0.01);
  expect(learnerLoudness, "the learner is audible in the recording").toBeGreaterThan(0.01);

  // Replay: choosing the third turn plays from its start, and it is the turn highlighted.
  const position = () => player.evaluate((audio: HTMLAudioElement) => audio.currentTime);
  const third = saved.nth(2).getByRole("button");
  await third.click();
  await expect.poll(position).toBeGreaterThanOrEqual(turns[2].start_ms / 1000 - 0.1);
  expect(await position()).toBeLessThan(turns[2].start_ms / 1000 + 1.5);
  await expect(third).toHaveAttribute("aria-current", "true");
  await expect(saved.nth(0).getByRole("button")).not.toHaveAttribute("aria-current", "true");
  // The keyboard: up goes to the turn before, Space pauses.
  await page.keyboard.press("ArrowUp");
  await expect(saved.nth(1).getByRole("button")).toBeFocused();
  await expect.poll(position).toBeGreaterThanOrEqual(turns[1].start_ms / 1000 - 0.1);
  expect(await position()).toBeLessThan(turns[2].start_ms / 1000);
  await page.keyboard.press(" ");
  await expect.poll(() => player.evaluate((audio: HTMLAudioElement) => audio.paused)).toBe(true);

  // Export: one zip with the recording and the transcript in every form.
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: /Download everything/ }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^speaking-coach-ordering-at-a-cafe-\d{4}-\d\d-\d\d\.zip$/);
  const listing = JSON.parse(
    execFileSync("python3", [
      "-c",
      "import json, sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); " +
        "print(json.dumps({n: z.read(n).decode('utf-8', 'replace') if not n.endswith('.ogg') else len(z.read(n)) for n in z.namelist()}))",
      await download.path(),
    ]).toString(),
  );
  expect(Object.keys(listing).sort()).toEqual([
    "feedback.json",
    "recording.ogg",
    "session.json",
    "transcript.json",
    "transcript.md",
    "transcript.vtt",
  ]);
  expect(listing["recording.ogg"]).toBeGreaterThan(10_000);
  expect(JSON.parse(listing["transcript.json"]).map((turn: { text: string }) => turn.text)).toEqual(shown);
  expect(listing["transcript.vtt"]).toMatch(/^WEBVTT\n/);
  // Ending the session asked for the coach's feedback in the same transaction.
  expect(["Preparing", "Ready"]).toContain(JSON.parse(listing["feedback.json"]).status);
  expect(listing["transcript.vtt"]).toContain(`<v You>${LEARNER_SAYS}`);

  // The summary is a real page: it reloads from the server.
  await page.reload();
  await expect(page.getByTestId("summary-turns")).toHaveText(String(settled));
  await expect(saved.filter({ hasText: LEARNER_SAYS })).toHaveCount(1);
});

test("push to talk: the learner holds the button while speaking, the coach answers on release", async ({ page, baseURL }) => {
  test.setTimeout(90_000);
  await signUp(page, baseURL!, "ptt");
  await queueTranscripts(page, ["How much is a small one?"]);
  await openCheck(page);
  await startQuietly(page);
  const coach = page.locator('[data-speaker="coach"]');
  await expect(coach.first()).toHaveAttribute("data-state", "Final", { timeout: 20_000 });

  await page.getByRole("switch", { name: /Push to talk/ }).check();
  const hold = page.getByRole("button", { name: "Hold to talk" });
  await expect(hold).toBeEnabled();
  // Nothing the microphone hears counts until the button is held.
  await page.waitForTimeout(1_000);
  await expect(page.locator('[data-speaker="learner"]')).toHaveCount(0);

  // Hold through one whole loop of the fake microphone's sentence (2.5 s speech + 8 s silence).
  await hold.hover();
  await page.mouse.down();
  await expect(page.getByRole("button", { name: /release to send/ })).toBeVisible();
  await page.waitForTimeout(11_000);
  await page.mouse.up();

  const learner = page.locator('[data-speaker="learner"]');
  await expect(learner.first()).toHaveAttribute("data-state", "Final", { timeout: 15_000 });
  await expect(learner.first()).toContainText("How much is a small one?");
  await expect(coach.nth(1)).toHaveAttribute("data-state", "Final", { timeout: 20_000 });
  const words = page.getByRole("list", { name: "Target vocabulary" });
  await expect(words.locator('[data-used="true"]')).toHaveText([/small/, /how much/]);

  await page.getByRole("button", { name: "End session" }).click();
  await expect(page).toHaveURL(/\/practice\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId("summary-words")).toHaveText("2 / 8");
});

test("a refused microphone is explained, creates nothing, and can be retried", async ({ playwright, baseURL }) => {
  // Without --use-fake-ui-for-media-stream the permission request is refused, as when a learner
  // clicks "Block".
  const browser = await playwright.chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--use-fake-device-for-media-stream"],
  });
  try {
    const context = await browser.newContext({ baseURL });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await signUp(page, baseURL!, "denied");
    const before = await counters(page);
    await page.goto("/topics/ordering-at-a-cafe/practice");
    await expect(page.getByRole("heading", { name: "Speaking Coach can't hear you" })).toBeVisible();
    await expect(page.getByText("allow the microphone for this site")).toBeVisible();
    expect((await counters(page)).calls_started).toBe(before.calls_started);

    await context.grantPermissions(["microphone"], { origin: baseURL });
    await page.getByRole("button", { name: "Try again" }).click();
    await expect(page.getByText("Your microphone is on")).toBeVisible();
    await expect(page.getByRole("button", { name: "Start conversation" })).toBeEnabled();
    expect(errors).toEqual([]);
  } finally {
    await browser.close();
  }
});

test.describe("when minting fails", () => {
  // The server answers 503 on purpose here; Chromium logs every failed load.
  test.use({ allowedConsoleErrors: [/status of 503 .*\/api\/voice\/start/] });

  test("when the coach cannot be reached, the learner is told and can try again", async ({ page, baseURL }) => {
    await signUp(page, baseURL!, "mint");
    // The server retries a failing mint three times before giving up.
    await queueFaults(page, [500, 500, 500].map((status) => ({ kind: "mint_error", status })));
    await openCheck(page);
    await expect(page.getByRole("heading", { name: "We couldn't reach your coach" })).toBeVisible();
    await expect(page.getByRole("alert")).toContainText("The coach is unavailable right now");
    // Nothing is held while the learner reads the message.
    await expect.poll(() => page.evaluate(() => (window as any).__mic.allStopped())).toBe(true);

    await page.getByRole("button", { name: "Try again" }).click();
    await expect(page.getByRole("button", { name: "Start conversation" })).toBeEnabled();
  });
});

test("a coach that answers too slowly times out with a way forward", async ({ page, baseURL }) => {
  test.setTimeout(60_000);
  await signUp(page, baseURL!, "slow");
  const before = await counters(page);
  // The call opened during the check is the one that answers late.
  await queueFaults(page, [{ kind: "answer_delay", ms: 12_000 }]);
  await openCheck(page);
  await expect(page.getByRole("button", { name: "Start conversation" })).toBeEnabled();
  await page.getByRole("button", { name: "Start conversation" }).click();
  await expect(page.getByTestId("call-status")).toHaveText("Connecting");
  await expect(page.getByRole("heading", { name: "We couldn't reach your coach" })).toBeVisible({ timeout: 15_000 });
  await expect(page.getByRole("alert")).toContainText("didn't answer in time");
  await expect.poll(() => page.evaluate(() => (window as any).__mic.allStopped())).toBe(true);

  // The next attempt goes through.
  await page.getByRole("button", { name: "Try again" }).click();
  await startQuietly(page);
  expect((await counters(page)).calls_started).toBeGreaterThan(before.calls_started);
});

test("ending a call before it connects cancels it and keeps nothing", async ({ page, baseURL }) => {
  test.setTimeout(60_000);
  await signUp(page, baseURL!, "cancel");
  // The coach takes its time to answer the call opened during the check, and the learner
  // presses Start, then changes their mind, before it does.
  await queueFaults(page, [{ kind: "answer_delay", ms: 8_000 }]);
  await openCheck(page);
  const start = page.getByRole("button", { name: "Start conversation" });
  await expect(start).toBeEnabled();
  await start.click();
  await expect(page.getByTestId("call-status")).toHaveText("Connecting");
  await page.getByRole("button", { name: "End session" }).click();
  await expect(page.getByRole("heading", { name: "Call cancelled" })).toBeVisible();
  await expect(page.getByText("Nothing was saved.")).toBeVisible();
  await expect.poll(() => page.evaluate(() => (window as any).__mic.allStopped())).toBe(true);
  await expect(page.getByRole("link", { name: "Start again" })).toBeVisible();

  // No session was made, and none appears in history later (the delayed answer included).
  await page.waitForTimeout(9_000);
  await page.goto("/history");
  await expect(page.getByText("No sessions yet")).toBeVisible();
});

test("without IndexedDB (storage blocked) the session is still saved whole", async ({ page, baseURL }) => {
  test.setTimeout(90_000);
  // As in a browser that blocks site storage: the recording waits in page memory instead.
  await page.addInitScript(() => {
    Object.defineProperty(window, "indexedDB", { get: () => undefined, configurable: true });
  });
  const warnings: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "warning") warnings.push(message.text());
  });
  await signUp(page, baseURL!, "no-idb");
  await queueTranscripts(page, [LEARNER_SAYS]);
  await openCheck(page);
  await startQuietly(page);
  await greetAndAnswer(page);
  const shown = await page.locator('[data-state="Final"] [data-turn-text]').allTextContents();
  await page.getByRole("button", { name: "End session" }).click();
  await expect(page).toHaveURL(/\/practice\/[0-9a-f-]{36}$/);
  const saved = page.getByTestId("saved-transcript").locator("li");
  await expect(saved.filter({ hasText: LEARNER_SAYS })).toHaveCount(1);
  expect((await saved.locator("[data-turn-text]").allTextContents()).slice(0, shown.length)).toEqual(shown);
  expect(await recordedSeconds(page)).toBeGreaterThan(3);
  expect(warnings.some((warning) => warning.includes("recording kept in page memory only"))).toBe(true);
});

test("ending while the coach is mid-sentence keeps what it said, marked interrupted, and the summary stays sound", async ({
  page,
  baseURL,
}) => {
  test.setTimeout(60_000);
  await signUp(page, baseURL!, "end-mid-sentence");
  await openCheck(page);
  await startQuietly(page);
  // The greeting is being spoken (its text arrives well ahead of its voice): End 1.5 s into it.
  const coach = page.locator('[data-speaker="coach"]').first();
  await expect(coach.locator("[data-turn-text]")).toContainText("Hi!", { timeout: 15_000 });
  await expect(page.getByTestId("live-call")).toHaveAttribute("data-coach-heard", "true", { timeout: 10_000 });
  await page.waitForTimeout(1_500);
  await expect(coach).toHaveAttribute("data-state", "InProgress");
  const shown = (await coach.locator("[data-turn-text]").textContent())!.trim();
  await page.getByRole("button", { name: "End" }).click();
  await expect(page).toHaveURL(/\/practice\/[0-9a-f-]{36}$/, { timeout: 60_000 });
  const session = sessionShown(page);

  // Kept as far as it was heard, marked interrupted, on the summary and in what was stored.
  const saved = page.getByTestId("saved-transcript").locator("li");
  await expect(saved).toHaveCount(1);
  await expect(saved.first()).toContainText("Interrupted");
  const stored = await page.request.get(`/api/practice/turns?session=${session}`);
  expect(stored.status()).toBe(200);
  const turns = (await stored.json()) as { speaker: string; state: string; text: string }[];
  expect(turns.map((turn) => [turn.speaker, turn.state])).toEqual([["Coach", "Interrupted"]]);
  const heard = turns[0].text;
  expect(heard.length, `"${heard}" heard of "${shown}"`).toBeGreaterThan(0);
  expect(heard.length).toBeLessThan(shown.length);
  expect(shown.startsWith(heard)).toBe(true);
  await expect(saved.first().locator("[data-turn-text]")).toHaveText(heard);

  // Nothing the call page started outlives it: its timers (the 10 s connection timeout among
  // them) fire while the learner reads the summary, and the page stays error-free (the fixture
  // fails the test on any console error or uncaught exception).
  await page.waitForTimeout(12_000);
  await expect(saved).toHaveCount(1);
});
