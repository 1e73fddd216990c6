// End -> feedback visible on the summary, through the product's own pages: each run is a fresh
// learner's short call (the greeting, one learner turn with two common errors, End), then the
// time from pressing End until the summary shows the coach's feedback, which the page fetches by
// itself while it is being prepared. The simulator's Responses API answers at once; against
// OpenAI the model's own time adds to this.
//
//   node bench/feedback-latency.mjs <base-url> <runs> <wav>
import { launch, signUp } from "./browser.mjs";

const [base, runsArg, wav] = process.argv.slice(2);
const runs = Number(runsArg ?? 10);
const SAID = "I am agree with you. She don't like coffee.";

const browser = await launch(wav);
const times = [];
let failed = 0;
for (let run = 0; run < runs; run++) {
  const context = await browser.newContext({ baseURL: base });
  const page = await context.newPage();
  try {
    await signUp(page.request, base, `feedback-${Date.now()}-${run}@example.org`);
    const key = { authorization: `Bearer ${process.env.SIM_API_KEY}` };
    await page.request.post("/sim/control/transcripts", { data: { texts: [SAID] }, headers: key });
    await page.addInitScript(() => {
      const tracks = [];
      window.__quiet = () => tracks.forEach((t) => (t.enabled = false));
      window.__speak = () => tracks.forEach((t) => (t.enabled = true));
      const open = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
      navigator.mediaDevices.getUserMedia = async (c) => {
        const stream = await open(c);
        tracks.push(...stream.getAudioTracks());
        return stream;
      };
    });
    await page.goto("/topics/ordering-at-a-cafe/practice");
    await page.waitForFunction(() => document.documentElement.dataset.hydrated === "true");
    const start = page.getByRole("button", { name: "Start conversation" });
    await start.waitFor();
    await page.waitForFunction(
      () => [...document.querySelectorAll("button")].some((b) => b.textContent.includes("Start conversation") && !b.disabled),
      null,
      { timeout: 30_000 },
    );
    await page.evaluate(() => window.__quiet());
    await start.click();
    await page.locator('[data-speaker="coach"][data-state="Final"]').first().waitFor({ timeout: 20_000 });
    await page.evaluate(() => window.__speak());
    await page.locator('[data-speaker="learner"][data-state="Final"]').first().waitFor({ timeout: 25_000 });
    await page.evaluate(() => window.__quiet());
    const ended = Date.now();
    await page.getByRole("button", { name: "End session" }).click();
    await page.getByTestId("correction").first().waitFor({ timeout: 60_000 });
    times.push(Date.now() - ended);
  } catch (error) {
    failed += 1;
    console.error(`run ${run}: ${error.message.split("\n")[0]}`);
  } finally {
    await context.close();
  }
}
await browser.close();

times.sort((a, b) => a - b);
const pick = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
console.log(`End -> feedback visible on the summary, ${runs} sessions (${failed} failed)`);
if (times.length > 0) {
  console.log(
    `  P50 ${String(pick(0.5)).padStart(5)} ms   P95 ${String(pick(0.95)).padStart(5)} ms   max ${String(times[times.length - 1]).padStart(5)} ms`,
  );
}
if (failed > 0) process.exitCode = 1;
