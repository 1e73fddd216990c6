// The simulator's speech recognizer, measured as a learner reaches it: held-out sentences
// (bench/asr-sentences.txt, spoken by espeak-ng in two voices) played into a real WebRTC call from
// headless Chromium to the simulator, one turn each, the voice detection deciding where each ends.
// Reports the word error rate against what was said, and the time from the end of the speech (the
// last loud sample reaching the call) to the transcription's `completed` event.
//
// Usage: node bench/asr.mjs <base-url> <sentences.txt> <wav-dir>
// (script/bench asr renders the WAVs into <wav-dir> as 0-<n>.wav, 1-<n>.wav, one per voice.)
import { readFileSync } from "node:fs";
import { launch } from "./browser.mjs";

const [base, sentencesPath, wavDir] = process.argv.slice(2);
const sentences = readFileSync(sentencesPath, "utf8")
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith("#"));
const VOICES = ["en-us, 150 words/min", "en-gb, 135 words/min"];
const SIM_KEY = { authorization: `Bearer ${process.env.SIM_API_KEY}`, "content-type": "application/json" };

/** British spellings the recognizer writes the American way: the same word heard. */
const SPELLING = { favourite: "favorite", neighbours: "neighbors", neighbour: "neighbor", colour: "color" };

/** Lower case, no punctuation but apostrophes inside words, one spelling of each word. */
const words = (text) =>
  text
    .toLowerCase()
    .replace(/[’]/g, "'")
    .replace(/[^a-z0-9' ]+/g, " ")
    .split(/\s+/)
    .map((word) => word.replace(/^'+|'+$/g, ""))
    .filter(Boolean)
    .map((word) => SPELLING[word] ?? word);

/** Word-level edit distance: substitutions, insertions and deletions. */
function editDistance(reference, hypothesis) {
  let previous = Array.from({ length: hypothesis.length + 1 }, (_, j) => j);
  for (let i = 1; i <= reference.length; i++) {
    const current = [i];
    for (let j = 1; j <= hypothesis.length; j++) {
      const same = reference[i - 1] === hypothesis[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + same);
    }
    previous = current;
  }
  return previous[hypothesis.length];
}

/** Where the speech in a 16-bit mono WAV ends (ms): its last sample louder than -40 dBFS. */
function speechEndMs(wav) {
  const rate = wav.readUInt32LE(24);
  let data = 12;
  while (wav.toString("ascii", data, data + 4) !== "data") data += 8 + wav.readUInt32LE(data + 4);
  const start = data + 8;
  const samples = (wav.length - start) >> 1;
  for (let i = samples - 1; i >= 0; i--) {
    if (Math.abs(wav.readInt16LE(start + 2 * i)) > 328) return ((i + 1) * 1000) / rate;
  }
  return 0;
}

// A client secret straight from the simulator (its standard key): voice detection on, and no
// replies, so that only the learner's turns are measured.
async function mint() {
  const response = await fetch(`${base}/sim/v1/realtime/client_secrets`, {
    method: "POST",
    headers: SIM_KEY,
    body: JSON.stringify({
      session: {
        type: "realtime",
        model: "gpt-realtime-mini",
        audio: {
          input: {
            transcription: { model: "gpt-4o-mini-transcribe", language: "en" },
            turn_detection: { type: "server_vad", create_response: false, interrupt_response: false },
          },
        },
      },
    }),
  });
  if (!response.ok) throw new Error(`mint: ${response.status} ${await response.text()}`);
  const secret = await response.json();
  return { value: secret.value, calls: `${base}/sim/v1/realtime/calls` };
}

const browser = await launch(null, ["--autoplay-policy=no-user-gesture-required"]);
const page = await browser.newPage();
await page.goto(`${base}/`);
const results = [];
for (let voice = 0; voice < VOICES.length; voice++) {
  const secret = await mint();
  const clips = sentences.map((_, n) => {
    const wav = readFileSync(`${wavDir}/${voice}-${n}.wav`);
    return { base64: wav.toString("base64"), endMs: speechEndMs(wav) };
  });
  const heard = await page.evaluate(
    async ({ secret, clips }) => {
      const context = new AudioContext({ sampleRate: 48_000 });
      await context.resume();
      const out = context.createMediaStreamDestination();
      // A room's faint noise (about -60 dBFS) under the speech, as any microphone hears: Chromium
      // sends no audio packets for a track of digital silence, and then no turn would end.
      const noise = context.createBuffer(1, 48_000, 48_000);
      const samples = noise.getChannelData(0);
      for (let i = 0; i < samples.length; i++) samples[i] = (Math.random() * 2 - 1) * 0.0017;
      const room = context.createBufferSource();
      room.buffer = noise;
      room.loop = true;
      room.connect(out);
      room.start();
      const pc = new RTCPeerConnection();
      pc.addTrack(out.stream.getAudioTracks()[0], out.stream);
      const channel = pc.createDataChannel("oai-events");
      // Every event, with when it came: a sentence may make more than one turn (the voice
      // detection hears a long pause as the end of one), and all of them are its words.
      const events = [];
      channel.onmessage = (message) => events.push({ event: JSON.parse(message.data), at: performance.now() });
      const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
      await pc.setLocalDescription(await pc.createOffer());
      const answer = await fetch(secret.calls, {
        method: "POST",
        body: pc.localDescription.sdp,
        headers: { "Content-Type": "application/sdp", Authorization: `Bearer ${secret.value}` },
      });
      await pc.setRemoteDescription({ type: "answer", sdp: await answer.text() });
      for (let i = 0; i < 100 && !events.some((e) => e.event.type === "session.created"); i++) await sleep(100);
      if (!events.some((e) => e.event.type === "session.created")) throw new Error("the call did not open");
      const results = [];
      for (const clip of clips) {
        const bytes = Uint8Array.from(atob(clip.base64), (c) => c.charCodeAt(0));
        const buffer = await context.decodeAudioData(bytes.buffer);
        const source = context.createBufferSource();
        source.buffer = buffer;
        source.connect(out);
        const from = events.length;
        const ended = new Promise((resolve) => (source.onended = resolve));
        const startedAt = performance.now() + (context.outputLatency || 0) * 1000;
        source.start();
        await ended;
        const speechEnd = startedAt + clip.endMs;
        // The turn's closing silence, then every turn it made transcribed (or failed).
        await sleep(1_000);
        const since = () => events.slice(from);
        const committed = () => since().filter((e) => e.event.type === "input_audio_buffer.committed").map((e) => e.event.item_id);
        const settled = (id) =>
          since().find(
            (e) =>
              e.event.item_id === id &&
              (e.event.type === "conversation.item.input_audio_transcription.completed" ||
                e.event.type === "conversation.item.input_audio_transcription.failed"),
          );
        for (let i = 0; i < 300 && !(committed().length > 0 && committed().every(settled)); i++) await sleep(50);
        const turns = committed().map(settled).filter(Boolean);
        const stopped = since().find((e) => e.event.type === "input_audio_buffer.speech_stopped");
        const last = turns.at(-1);
        results.push({
          text: turns.length ? turns.map((t) => t.event.transcript ?? "").join(" ") : null,
          turns: turns.length,
          failed: turns.some((t) => t.event.type.endsWith("failed")),
          toStopped: stopped ? stopped.at - speechEnd : null,
          toCompleted: last ? last.at - speechEnd : null,
        });
        await sleep(300);
      }
      pc.close();
      await context.close();
      return results;
    },
    { secret, clips },
  );
  heard.forEach((result, n) => results.push({ ...result, said: sentences[n], voice }));
}
await browser.close();

let errors = 0;
let total = 0;
const rows = [];
for (const result of results) {
  const reference = words(result.said);
  const hypothesis = words(result.text ?? "");
  const distance = editDistance(reference, hypothesis);
  errors += distance;
  total += reference.length;
  rows.push({ ...result, distance, rate: distance / reference.length });
}
const latencies = results.map((r) => r.toCompleted).filter((ms) => ms !== null).sort((a, b) => a - b);
const toStopped = results.map((r) => r.toStopped).filter((ms) => ms !== null).sort((a, b) => a - b);
const pick = (list, q) => list[Math.min(list.length - 1, Math.floor(q * list.length))] ?? NaN;
const missing = results.filter((r) => r.text === null).length;
const wer = (100 * errors) / total;
const p95 = pick(latencies, 0.95);
console.log(
  `asr: ${sentences.length} held-out sentences x ${VOICES.length} voices (${VOICES.join("; ")}), ` +
    `${total} words, through WebRTC to the simulator's recognizer`,
);
const split = results.filter((r) => r.turns > 1).length;
const failed = results.filter((r) => r.failed).length;
console.log(
  `  word error rate    ${wer.toFixed(1)} %   (${errors} of ${total} words)   target <= 20 %: ${wer <= 20 ? "met" : "MISSED"}`,
);
console.log(
  `  sentences heard as more than one turn: ${split}; with a turn not transcribed: ${failed}; with none: ${missing}`,
);
console.log(
  `  end of speech -> its (last) transcript   P50 ${pick(latencies, 0.5).toFixed(0)} ms   P95 ${p95.toFixed(0)} ms   ` +
    `max ${latencies.at(-1)?.toFixed(0)} ms   target P95 <= 1500 ms: ${p95 <= 1500 ? "met" : "MISSED"}`,
);
console.log(
  `    of which end of speech -> speech_stopped (the voice detection's 500 ms of silence)   P50 ${pick(toStopped, 0.5).toFixed(0)} ms`,
);
console.log("  worst sentences:");
for (const row of rows.sort((a, b) => b.rate - a.rate).slice(0, 5)) {
  console.log(`    ${(100 * row.rate).toFixed(0).padStart(3)} %  said "${row.said}"`);
  console.log(`          heard "${row.text ?? "(nothing)"}"`);
}
