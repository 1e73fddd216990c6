// Replay of a long recording, measured in headless Chromium through the session page: for each
// run the page is opened afresh, then
//   first sound  play() -> the player's position moves (audio is flowing)
//   seek         a jump to a random point -> `seeked` -> the position moves on from there
// The recording is seeded by the caller (examples/seed_recording.rs): <seconds> long.
//
// Usage: node bench/replay-latency.mjs <base-url> <runs> <email> <session-id> <label>
import { PASSWORD, launch } from "./browser.mjs";

const [base, runsArg, email, session, label] = process.argv.slice(2);
const runs = Number(runsArg ?? 20);

const browser = await launch(null, ["--autoplay-policy=no-user-gesture-required"]);
const context = await browser.newContext({ baseURL: base });
const signIn = await context.request.post("/api/auth/sign-in", {
  form: { email, password: PASSWORD },
  headers: { origin: base, accept: "application/json" },
});
if (signIn.status() !== 200) throw new Error(`sign-in: ${signIn.status()}`);

const samples = { first: [], seek: [] };
let duration = 0;
let failures = 0;
const requests = { first: 0, seek: 0 };
for (let run = 1; run <= runs; run++) {
  const page = await context.newPage();
  try {
    await page.goto(`/practice/${session}`);
    await page.waitForFunction(() => document.documentElement.dataset.hydrated === "true");
    // Requests for the recording (a seek in an Ogg file is a bisection: often several ranges).
    let phase = "first";
    page.on("request", (request) => {
      if (/\/recording|X-Amz-Signature/.test(request.url())) requests[phase] += 1;
    });
    const audio = page.getByTestId("summary-audio");
    const first = await audio.evaluate(async (audio) => {
      audio.muted = true;
      const t0 = performance.now();
      await audio.play();
      await new Promise((resolve) => {
        const check = () => (audio.currentTime > 0.01 ? resolve() : requestAnimationFrame(check));
        check();
      });
      return performance.now() - t0;
    });
    phase = "seek";
    const result = await audio.evaluate(async (audio) => {
      const target = 30 + Math.random() * (audio.duration - 60);
      const t1 = performance.now();
      const seeked = new Promise((resolve) => audio.addEventListener("seeked", resolve, { once: true }));
      audio.currentTime = target;
      await seeked;
      await new Promise((resolve) => {
        const check = () => (audio.currentTime > target + 0.01 ? resolve() : requestAnimationFrame(check));
        check();
      });
      const seek = performance.now() - t1;
      audio.pause();
      return { seek, duration: audio.duration };
    });
    result.first = first;
    samples.first.push(result.first);
    samples.seek.push(result.seek);
    duration = result.duration;
  } catch (error) {
    failures += 1;
    console.error(`run ${run}: ${error.message}`);
  } finally {
    await page.close();
  }
}
await browser.close();

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};
const row = (name, values, target) =>
  `  ${name.padEnd(12)} P50 ${percentile(values, 50).toFixed(0).padStart(5)} ms   P95 ${percentile(values, 95)
    .toFixed(0)
    .padStart(5)} ms   max ${Math.max(...values).toFixed(0).padStart(5)} ms   target P95 < ${target} ms`;
console.log(`replay, ${label}: a ${(duration / 60).toFixed(1)}-minute recording, ${samples.first.length} runs, ${failures} failed`);
if (samples.first.length) {
  console.log(row("first sound", samples.first, 300));
  console.log(row("seek", samples.seek, 200));
  const per = (n) => (n / samples.first.length).toFixed(1);
  console.log(`  recording requests per run: ${per(requests.first)} to first sound, ${per(requests.seek)} per seek`);
}
if (failures) process.exit(1);
