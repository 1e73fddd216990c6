// Helpers of the call specs: the product's own call client (Rust/WASM) in Chromium, talking over
// real WebRTC to the Realtime simulator mounted in the app. Chromium's fake microphone plays a
// spoken sentence (script/test makes it with espeak-ng) on a loop; a test decides when the learner
// "speaks" by enabling the fake track, as a learner would by talking or keeping quiet.
import { expect, waitForHydration } from "./fixtures";
import type { BrowserContext, Page } from "@playwright/test";
import { execFileSync } from "node:child_process";

export const LEARNER_SAYS = "I would like a cup of coffee, please.";
const PASSWORD = "a long enough passphrase";

/** Whether the page before `page` (in the same tab) had released the microphone when it went
 * away: "released", "open", or null when it never opened one. */
export async function micWhenLeft(page: Page): Promise<string | null> {
  return page.evaluate(() => sessionStorage.getItem("micWhenLeft"));
}

/** Keeps every microphone track the pages open (in `target`, a page or a whole context), so the
 * test can speak through it, keep it quiet, and check that the page released it. A page that
 * opened the microphone notes, as it goes away, whether it had released it by itself (before
 * anything the page does on leaving): `micWhenLeft(page)` reads it on the next page. */
export async function watchMicrophone(target: Page | BrowserContext) {
  await target.addInitScript(() => {
    const mic = { tracks: [] as MediaStreamTrack[] };
    const allStopped = () => mic.tracks.length > 0 && mic.tracks.every((t) => t.readyState === "ended");
    (window as any).__mic = {
      ...mic,
      tracks: mic.tracks,
      speak: () => mic.tracks.forEach((t) => (t.enabled = true)),
      quiet: () => mic.tracks.forEach((t) => (t.enabled = false)),
      allStopped,
    };
    addEventListener("pagehide", () => {
      if (mic.tracks.length > 0) sessionStorage.setItem("micWhenLeft", allStopped() ? "released" : "open");
    });
    const devices = navigator.mediaDevices;
    if (!devices) return;
    const open = devices.getUserMedia.bind(devices);
    devices.getUserMedia = async (constraints) => {
      const stream = await open(constraints);
      mic.tracks.push(...stream.getAudioTracks());
      return stream;
    };
  });
}

/** A microphone the test speaks into at a moment of its choosing: a steady 200 Hz tone from
 * Web Audio, switched on and off (`__mic.speak()` / `__mic.quiet()`), instead of Chromium's
 * looping recording. The simulator's voice detection hears it as speech (it cannot understand
 * words; tests queue what was "said"), so a learner can talk over the coach at a known moment. */
export async function toneMicrophone(page: Page) {
  await page.addInitScript(() => {
    const tracks: MediaStreamTrack[] = [];
    const gains: GainNode[] = [];
    const level = (value: number) =>
      gains.forEach((gain) => gain.gain.setValueAtTime(value, gain.context.currentTime));
    (window as any).__mic = {
      tracks,
      speak: () => level(0.3),
      quiet: () => level(0),
      allStopped: () => tracks.length > 0 && tracks.every((t) => t.readyState === "ended"),
    };
    const devices = navigator.mediaDevices;
    if (!devices) return;
    devices.getUserMedia = async () => {
      const context = new AudioContext({ sampleRate: 48_000 });
      await context.resume();
      const tone = context.createOscillator();
      tone.frequency.value = 200;
      const gain = context.createGain();
      gain.gain.value = 0;
      const out = context.createMediaStreamDestination();
      tone.connect(gain).connect(out);
      tone.start();
      gains.push(gain);
      tracks.push(...out.stream.getAudioTracks());
      return out.stream;
    };
  });
}

/** The token of the newest sign-up link mailed to `email`, from the development mailbox. */
export async function newestSignUpToken(page: Page, email: string) {
  const mailbox = await page.request.get(`/dev/mailbox?to=${encodeURIComponent(email)}`);
  expect(mailbox.status()).toBe(200);
  const token = (await mailbox.text()).match(/\/confirm-email\?token=([0-9a-f]{64})/)?.[1];
  expect(token, `a sign-up link mailed to ${email}`).toBeTruthy();
  return token!;
}

/** Signs up a fresh learner in `page`'s context (asks for the link, follows it from the
 * development mailbox, chooses the password); answers the email and password. */
export async function signUp(page: Page, baseURL: string, label: string) {
  const email = `practice-${label}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.org`;
  const headers = { origin: baseURL, accept: "application/json" };
  const asked = await page.request.post("/api/auth/sign-up", { form: { email }, headers });
  expect(asked.status()).toBe(200);
  const token = await newestSignUpToken(page, email);
  const finished = await page.request.post("/api/auth/finish-sign-up", {
    form: { token, password: PASSWORD },
    headers,
  });
  expect(finished.status()).toBe(200);
  return { email, password: PASSWORD };
}

/** Signs an existing learner in, in `page`'s context. */
export async function signIn(page: Page, baseURL: string, email: string) {
  const response = await page.request.post("/api/auth/sign-in", {
    form: { email, password: PASSWORD },
    headers: { origin: baseURL, accept: "application/json" },
  });
  expect(response.status()).toBe(200);
}

/** The simulator's control endpoints answer only its standard key (script/test passes it). */
const SIM_KEY = { authorization: `Bearer ${process.env.SIM_API_KEY}` };

/** `POST /sim/control/{path}` with the simulator's key. */
export function simControl(page: Page, path: string, data: object = {}) {
  return page.request.post(`/sim/control/${path}`, { data, headers: SIM_KEY });
}

export async function counters(page: Page) {
  return (await page.request.get("/sim/control/counters", { headers: SIM_KEY })).json();
}

export async function queueFaults(page: Page, faults: object[]) {
  const queued = await simControl(page, "faults", { faults });
  expect(queued.status()).toBe(204);
}

/** A microphone that says a sentence when the test asks (`__mic.say(wavBase64)`), and is silent
 * otherwise: a recording played through Web Audio, for the simulator's speech recognizer to hear. */
export async function voiceMicrophone(page: Page) {
  await page.addInitScript(() => {
    const outputs: { context: AudioContext; out: MediaStreamAudioDestinationNode }[] = [];
    (window as any).__mic = {
      say: async (base64: string) => {
        const played = outputs.map(async ({ context, out }) => {
          const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
          const source = context.createBufferSource();
          source.buffer = await context.decodeAudioData(bytes.buffer);
          source.connect(out);
          const ended = new Promise((resolve) => (source.onended = resolve));
          source.start();
          await ended;
        });
        await Promise.all(played);
        return outputs.length;
      },
      quiet: () => {},
    };
    const devices = navigator.mediaDevices;
    if (!devices) return;
    devices.getUserMedia = async () => {
      const context = new AudioContext({ sampleRate: 48_000 });
      await context.resume();
      const out = context.createMediaStreamDestination();
      // A room's faint noise (about -60 dBFS), as any microphone hears: far below speech.
      const noise = context.createBuffer(1, 48_000, 48_000);
      const samples = noise.getChannelData(0);
      for (let i = 0; i < samples.length; i++) samples[i] = (Math.random() * 2 - 1) * 0.0017;
      const room = context.createBufferSource();
      room.buffer = noise;
      room.loop = true;
      room.connect(out);
      room.start();
      outputs.push({ context, out });
      return out.stream;
    };
  });
}

/** A sentence spoken by espeak-ng, as a base64 WAV (script/setup installs espeak-ng). */
export function spoken(sentence: string): string {
  return execFileSync("espeak-ng", ["-v", "en-us", "-s", "150", "--stdout", sentence]).toString("base64");
}

/** What the learner's next utterances "say": the simulator cannot understand speech. */
export async function queueTranscripts(page: Page, texts: string[]) {
  const queued = await simControl(page, "transcripts", { texts });
  expect(queued.status()).toBe(204);
}

/** From the topic page, through "Start practice", to the pre-call check. */
export async function openCheck(page: Page) {
  await page.goto("/topics/ordering-at-a-cafe");
  await page.getByRole("link", { name: "Start practice" }).click();
  await expect(page).toHaveURL(/\/topics\/ordering-at-a-cafe\/practice$/);
  await waitForHydration(page);
}

/** Waits until the check is done, then keeps the learner quiet (so the coach's greeting is heard
 * out) and starts the conversation. */
export async function startQuietly(page: Page) {
  const start = page.getByRole("button", { name: "Start conversation" });
  await expect(start).toBeEnabled();
  await page.evaluate(() => (window as any).__mic.quiet());
  await start.click();
  await expect(page.getByTestId("call-status")).toContainText("Live");
}

/** The coach greets, the learner says their sentence (once), the coach's turn and the learner's
 * are final on the page. */
export async function greetAndAnswer(page: Page) {
  const coach = page.locator('[data-speaker="coach"]');
  await expect(coach.first()).toHaveAttribute("data-state", "Final", { timeout: 20_000 });
  await page.evaluate(() => (window as any).__mic.speak());
  const learner = page.locator('[data-speaker="learner"]');
  await expect(learner.first()).toHaveAttribute("data-state", "Final", { timeout: 25_000 });
  await page.evaluate(() => (window as any).__mic.quiet());
  await expect(learner.first()).toContainText(LEARNER_SAYS);
}

/** Seconds of the call so far, from the page's clock ("1:07 / 2:00"). */
export async function elapsedSeconds(page: Page) {
  const text = (await page.getByTestId("elapsed").textContent())!;
  const clock = text.match(/(\d+):(\d\d)/);
  expect(clock, text).not.toBeNull();
  return Number(clock![1]) * 60 + Number(clock![2]);
}

/** The recording's length as the summary states it ("Your recording is saved (m:ss)"). */
export async function recordedSeconds(page: Page) {
  const text = (await page.getByTestId("summary-recording").textContent())!;
  const recorded = text.match(/Your recording is saved \((\d+):(\d\d)\)/);
  expect(recorded, text).not.toBeNull();
  return Number(recorded![1]) * 60 + Number(recorded![2]);
}

/** The session's stored recording, decoded by Chromium: its duration, and the loudness (RMS) of
 * each `[startMs, endMs]` stretch. */
export async function storedAudio(page: Page, session: string, stretches: [number, number][]) {
  // Fetched as the learner (following the redirect to S3's presigned URL), decoded in the page.
  const response = await page.request.get(`/api/practice/${session}/recording`);
  expect(response.status()).toBe(200);
  const base64 = (await response.body()).toString("base64");
  return page.evaluate(
    async ({ base64, stretches }) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)).buffer;
      const context = new OfflineAudioContext(1, 48_000, 48_000);
      const audio = await context.decodeAudioData(bytes);
      const samples = audio.getChannelData(0);
      const rms = ([from, to]: [number, number]) => {
        const a = Math.max(0, Math.floor((from / 1000) * audio.sampleRate));
        const b = Math.min(samples.length, Math.floor((to / 1000) * audio.sampleRate));
        let sum = 0;
        for (let i = a; i < b; i++) sum += samples[i] * samples[i];
        return Math.sqrt(sum / Math.max(1, b - a));
      };
      return { duration: audio.duration, loudness: stretches.map(rms) };
    },
    { base64, stretches },
  );
}
