// Start -> first coach audio, measured in headless Chromium against the app and its Realtime
// simulator: N practice calls, each from a fresh learner, through the product's own pages.
//
// "First audio" is when the coach's voice is first audible on the remote WebRTC track (the page
// analyses the track's level and marks `sc:first-audio`), not when an event says so. The split:
//   mint       the client secret (during the pre-call check, before Start; not in the total)
//   answer     Start -> the SDP answer applied
//   connected  Start -> the data channel open (the greeting is requested right then)
//   first      Start -> the coach audible
//
// Usage: node bench/call-latency.mjs <base-url> <runs> <reply-latency-ms> <fake-mic.wav>
import { launch, signUp } from "./browser.mjs";

const [base, runsArg, latencyArg, wav] = process.argv.slice(2);
const runs = Number(runsArg ?? 20);
const replyLatency = Number(latencyArg ?? 300);

const browser = await launch(wav);

const samples = { mint: [], answer: [], connected: [], first: [] };
let failures = 0;
for (let run = 1; run <= runs; run++) {
  const context = await browser.newContext({ baseURL: base });
  const page = await context.newPage();
  try {
    const email = `bench-${Date.now()}-${run}@example.org`;
    await signUp(page.request, base, email);
    await page.goto("/topics/ordering-at-a-cafe/practice");
    // The button reads "Start conversation" (and is enabled) once the check is done.
    const start = page.getByRole("button", { name: "Start conversation" });
    await start.waitFor();
    await start.click();
    await page.locator('[data-coach-heard="true"]').waitFor({ timeout: 15_000 });
    const marks = await page.evaluate(() =>
      Object.fromEntries(performance.getEntriesByType("mark").map((m) => [m.name, m.startTime])),
    );
    samples.mint.push(marks["sc:minted"] - marks["sc:check"]);
    samples.answer.push(marks["sc:answered"] - marks["sc:start"]);
    samples.connected.push(marks["sc:connected"] - marks["sc:start"]);
    samples.first.push(marks["sc:first-audio"] - marks["sc:start"]);
    await page.getByRole("button", { name: "End session" }).click();
    await page.waitForURL(/\/practice\//, { timeout: 15_000 });
    process.stderr.write(`run ${run}/${runs}: first audio ${samples.first.at(-1).toFixed(0)} ms\n`);
  } catch (error) {
    failures += 1;
    process.stderr.write(`run ${run}/${runs} failed: ${error.message}\n`);
  } finally {
    await context.close();
  }
}
await browser.close();

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};
const row = (name, values) =>
  `${name.padEnd(38)}${percentile(values, 50).toFixed(0).padStart(8)}${percentile(values, 95).toFixed(0).padStart(8)}${Math.max(...values).toFixed(0).padStart(8)}`;

if (samples.first.length === 0) {
  console.log(`no call completed (${failures} failed)`);
  process.exit(1);
}
const overhead = samples.first.map((ms) => ms - replyLatency);
console.log(`Start -> first coach audio, ${samples.first.length} calls (${failures} failed), simulator reply latency ${replyLatency} ms`);
console.log(`${"".padEnd(38)}${"P50".padStart(8)}${"P95".padStart(8)}${"max".padStart(8)}   (ms)`);
console.log(row("mint (pre-call check, not in total)", samples.mint));
console.log(row("Start -> answer applied", samples.answer));
console.log(row("Start -> data channel open", samples.connected));
console.log(row("Start -> first coach audio", samples.first));
console.log(row("our overhead (total - reply latency)", overhead));
const p95 = percentile(samples.first, 95);
const p95Overhead = percentile(overhead, 95);
console.log(`target P95 first audio < 1000 ms: ${p95 < 1000 ? "met" : "MISSED"} (${p95.toFixed(0)} ms)`);
console.log(`target P95 overhead < 400 ms: ${p95Overhead < 400 ? "met" : "MISSED"} (${p95Overhead.toFixed(0)} ms)`);
process.exit(failures > 0 ? 1 : 0);
