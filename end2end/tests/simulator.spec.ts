import { test, expect } from "./fixtures";
import { counters, signUp, simControl } from "./calls";

// A real WebRTC call from Chromium to the local Realtime simulator mounted in the app, with the
// fake microphone playing a spoken sentence (script/test makes it with espeak-ng). The browser
// side here is plain test code; the product's own call client is Rust (src/browser).

const LEARNER_SAYS = "I would like a cup of coffee, please.";

test.skip(!process.env.FAKE_MIC_WAV, "needs the fake microphone recording from script/test");
// Faults are queued on the one simulator and taken by the next call: run these calls one at a time,
// in one project (a call is the same at every screen size).
test.describe.configure({ mode: "serial" });
test.beforeEach(async ({ page }) => {
  // What every call here does to open: offer, POST it with the client secret, take the answer.
  await page.addInitScript(() => {
    (window as any).connectToSimulator = async (pc: RTCPeerConnection, secret: any) => {
      await pc.setLocalDescription(await pc.createOffer());
      const started = performance.now();
      const answer = await fetch(secret.calls_url, {
        method: "POST",
        body: pc.localDescription!.sdp,
        headers: { "Content-Type": "application/sdp", Authorization: `Bearer ${secret.client_secret}` },
      });
      const answerMs = performance.now() - started;
      const sdp = await answer.text();
      if (answer.ok) await pc.setRemoteDescription({ type: "answer", sdp });
      return { status: answer.status, location: answer.headers.get("Location"), answerMs };
    };
  });
});

test("a spoken conversation with the simulator, over real WebRTC", async ({ page, baseURL }, testInfo) => {
  test.setTimeout(60_000);
  const headers = { origin: baseURL!, accept: "application/json" };
  await signUp(page, baseURL!, `call-${testInfo.project.name}`);
  const start = await page.request.post("/api/voice/start", { form: { topic: "ordering-at-a-cafe" }, headers });
  expect(start.status()).toBe(200);
  const secret = await start.json();
  expect(Object.keys(secret).sort()).toEqual(["calls_url", "client_secret", "expires_at"]);

  // What the learner's utterance "says": the simulator cannot understand speech.
  const queued = await simControl(page, "transcripts", { texts: [LEARNER_SAYS] });
  expect(queued.status()).toBe(204);
  const before = await counters(page);

  await page.goto("/topics");
  const result = await page.evaluate(
    async ({ secret, timeoutMs }) => {
      const events: any[] = [];
      const pc = new RTCPeerConnection();
      const mic = await navigator.mediaDevices.getUserMedia({ audio: true });
      const [track] = mic.getAudioTracks();
      track.enabled = false; // quiet until the coach has greeted
      pc.addTrack(track, mic);
      // Measure what the coach's audio really sounds like: the loudest 100 ms of it. (Chromium
      // feeds a remote stream to Web Audio only while a media element also plays it.)
      const audio = new Audio();
      let loudest = 0;
      pc.ontrack = (e) => {
        audio.srcObject = e.streams[0];
        audio.muted = true;
        void audio.play();
        const context = new AudioContext();
        const analyser = context.createAnalyser();
        context.createMediaStreamSource(e.streams[0]).connect(analyser);
        const samples = new Float32Array(analyser.fftSize);
        setInterval(() => {
          analyser.getFloatTimeDomainData(samples);
          const rms = Math.sqrt(samples.reduce((sum, s) => sum + s * s, 0) / samples.length);
          loudest = Math.max(loudest, rms);
        }, 100);
      };
      const channel = pc.createDataChannel("oai-events");
      const done = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("timed out: " + events.map((e) => e.type).join(", "))), timeoutMs);
        let replies = 0;
        channel.onmessage = (message) => {
          const event = JSON.parse(message.data);
          events.push(event);
          // One learner utterance only: the fake microphone loops, and a second utterance could
          // talk over (and so cancel) the coach's answer.
          if (event.type === "input_audio_buffer.speech_stopped") track.enabled = false;
          // A reply has been heard out when its audio stops, which comes after response.done:
          // the text is made well ahead of the voice, as OpenAI does over WebRTC.
          if (event.type === "output_audio_buffer.stopped") {
            replies += 1;
            if (replies === 1) track.enabled = true; // the learner answers the greeting
            if (replies === 2) {
              clearTimeout(timer);
              resolve();
            }
          }
        };
      });
      // The app's secrets have turn detection off (a call may open before Start): on, then the
      // greeting, as the practice page does at Start.
      channel.onopen = () => {
        channel.send(
          JSON.stringify({
            type: "session.update",
            session: {
              type: "realtime",
              audio: { input: { turn_detection: { type: "server_vad", prefix_padding_ms: 300, silence_duration_ms: 500 } } },
            },
          }),
        );
        channel.send(JSON.stringify({ type: "response.create" }));
      };
      const { status, location } = await (window as any).connectToSimulator(pc, secret);
      await done;
      const stats = await pc.getStats();
      let inbound: any = null;
      stats.forEach((report: any) => {
        if (report.type === "inbound-rtp" && report.kind === "audio") inbound = report;
      });
      pc.close();
      track.stop();
      return { status, location, events, packets: inbound?.packetsReceived ?? 0, loudest };
    },
    { secret, timeoutMs: 45_000 },
  );

  expect(result.status).toBe(201);
  expect(result.location).toMatch(/^\/v1\/realtime\/calls\/rtc_[0-9a-f]+$/);
  // The coach's voice arrived as audible audio, not silence.
  expect(result.packets).toBeGreaterThan(100);
  expect(result.loudest).toBeGreaterThan(0.02);

  const types: string[] = result.events.map((e: any) => e.type);
  expect(types.slice(0, 2)).toEqual(["session.created", "session.updated"]);
  const updated = result.events[1].session.audio.input.turn_detection;
  expect(updated.type).toBe("server_vad");
  // The greeting, in the order the Realtime API sends a reply.
  const greeting = types.slice(2, types.indexOf("output_audio_buffer.stopped") + 1);
  expect(greeting.slice(0, 2)).toEqual(["response.created", "rate_limits.updated"]);
  expect(greeting).toContain("output_audio_buffer.started");
  expect(greeting).toContain("response.output_audio_transcript.delta");
  expect(greeting.slice(-7)).toEqual([
    "response.output_audio.done",
    "response.output_audio_transcript.done",
    "response.content_part.done",
    "response.output_item.done",
    "conversation.item.done",
    "response.done",
    "output_audio_buffer.stopped",
  ]);
  const firstDone = result.events.find((e: any) => e.type === "response.output_audio_transcript.done");
  expect(firstDone.transcript).toContain("Ordering at a café");

  // The learner's turn, detected on the audio that really arrived, then the coach's follow-up.
  const learner = ["input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped", "input_audio_buffer.committed"];
  const positions = learner.map((type) => types.indexOf(type));
  expect(positions.every((p) => p > 0)).toBe(true);
  expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  const transcript = result.events.find((e: any) => e.type === "conversation.item.input_audio_transcription.completed");
  expect(transcript.transcript).toBe(LEARNER_SAYS);
  const lastDone = result.events.filter((e: any) => e.type === "response.done").pop();
  expect(lastDone.response.status).toBe("completed");

  const after = await counters(page);
  expect(after.calls_started - before.calls_started).toBeGreaterThanOrEqual(1);
  expect(after.audio_frames_received).toBeGreaterThan(before.audio_frames_received + 50);
  expect(after.audio_frames_sent).toBeGreaterThan(before.audio_frames_sent + 100);
});

test("the simulator frees a call once the browser closes it", async ({ page, baseURL }, testInfo) => {
  test.skip(!process.env.SIM_API_KEY, "needs the simulator's standard key from script/test");
  const secret = await mintAsNewLearner(page, baseURL!, testInfo.project.name);
  await page.goto("/topics");
  const location = await page.evaluate(async (secret) => {
    const pc = new RTCPeerConnection();
    pc.addTransceiver("audio", { direction: "sendrecv" });
    const channel = pc.createDataChannel("oai-events");
    const opened = new Promise((resolve) => (channel.onopen = resolve));
    const answer = await (window as any).connectToSimulator(pc, secret);
    await opened;
    pc.close();
    return answer.location;
  }, secret);
  // Hanging up answers 404 once the call is gone: the simulator noticed the close and ended it.
  await expect
    .poll(
      async () =>
        (
          await page.request.post(`/sim${location}/hangup`, {
            headers: { authorization: `Bearer ${process.env.SIM_API_KEY}` },
          })
        ).status(),
      { timeout: 15_000 },
    )
    .toBe(404);
});

test("a dropped call looks like a network loss to the browser", async ({ page, baseURL }, testInfo) => {
  test.setTimeout(45_000);
  const secret = await mintAsNewLearner(page, baseURL!, testInfo.project.name);
  const queued = await simControl(page, "faults", {
    faults: [{ kind: "drop_call_after", seconds: 2 }],
  });
  expect(queued.status()).toBe(204);
  await page.goto("/topics");
  const states = await page.evaluate(async (secret) => {
    const states: string[] = [];
    const pc = new RTCPeerConnection();
    pc.addTransceiver("audio", { direction: "sendrecv" });
    pc.createDataChannel("oai-events");
    const lost = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("still connected: " + states.join(", "))), 30_000);
      pc.oniceconnectionstatechange = () => {
        states.push(pc.iceConnectionState);
        if (pc.iceConnectionState === "disconnected" || pc.iceConnectionState === "failed") {
          clearTimeout(timer);
          resolve();
        }
      };
    });
    const answer = await (window as any).connectToSimulator(pc, secret);
    await lost;
    pc.close();
    return states;
  }, secret);
  expect(states).toContain("connected");
  expect(states[states.length - 1]).toMatch(/disconnected|failed/);
});

async function mintAsNewLearner(page: import("@playwright/test").Page, baseURL: string, project: string) {
  const headers = { origin: baseURL, accept: "application/json" };
  await signUp(page, baseURL, `sim-${project}`);
  const start = await page.request.post("/api/voice/start", { form: { topic: "a-job-interview" }, headers });
  expect(start.status()).toBe(200);
  return start.json();
}

test("answer delays and session expiry from fault injection reach the browser", async ({ page, baseURL }, testInfo) => {
  test.setTimeout(45_000);
  const secret = await mintAsNewLearner(page, baseURL!, testInfo.project.name);
  const queued = await simControl(page, "faults", {
    faults: [
      { kind: "answer_delay", ms: 1500 },
      { kind: "session_expired_after", seconds: 2 },
    ],
  });
  expect(queued.status()).toBe(204);
  await page.goto("/topics");
  const result = await page.evaluate(async (secret) => {
    const pc = new RTCPeerConnection();
    pc.addTransceiver("audio", { direction: "sendrecv" });
    const channel = pc.createDataChannel("oai-events");
    const errors: any[] = [];
    const closed = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the call did not end")), 20_000);
      channel.onmessage = (message) => {
        const event = JSON.parse(message.data);
        if (event.type === "error") errors.push(event.error);
      };
      channel.onclose = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    const answer = await (window as any).connectToSimulator(pc, secret);
    await closed;
    pc.close();
    return { status: answer.status, answerMs: answer.answerMs, errors };
  }, secret);
  expect(result.status).toBe(201);
  expect(result.answerMs).toBeGreaterThanOrEqual(1500);
  expect(result.errors.map((e: any) => e.code)).toEqual(["session_expired"]);
});
