// What a learner downloads: each page loaded afresh in headless Chromium (JavaScript on), every
// script, wasm and stylesheet it fetched, and their size brotli-compressed (quality 11, as a
// compressing proxy or CDN would serve them; the app itself serves them uncompressed). The page's
// own HTML (with its inline scripts) is shown beside them, brotli-compressed, and not counted in
// the goal, as before pages stopped loading the wasm.
// Goals (issue 19): pages without a call <= 60 KB, the call page <= 190 KB, the replay <= 120 KB.
//
// Usage: node bench/weight.mjs <base-url>
import { readFileSync } from "node:fs";
import { brotliCompressSync, constants } from "node:zlib";
import { launch, signUp } from "./browser.mjs";

const [base] = process.argv.slice(2);
const browser = await launch(null);
const context = await browser.newContext({ baseURL: base });
const page = await context.newPage();
await page.goto(`${base}/`);
await signUp(page.request, base, `weight-${Date.now()}@example.org`);
const started = await page.request.post(`${base}/api/practice/start`, {
  form: { topic: "ordering-at-a-cafe", key: crypto.randomUUID() },
  headers: { origin: base, accept: "application/json" },
});
if (!started.ok()) throw new Error(`practice start: ${started.status()}`);
const session = (await started.json()).id;
// The replay measured is a finished session as a learner sees it: a recording (the committed
// Chromium fixture as its one piece), two turns, and its feedback ready.
const api = (path, options) =>
  page.request.fetch(`${base}${path}`, { ...options, headers: { origin: base, accept: "application/json", ...options.headers } });
const must = async (what, answer) => {
  if (!(await answer).ok()) throw new Error(`${what}: ${(await answer).status()}`);
  return answer;
};
await must("upload", api(`/api/practice/${session}/chunks/0`, {
  method: "PUT",
  headers: { "content-type": "application/octet-stream" },
  data: readFileSync(new URL("../tests/fixtures/chromium-mediarecorder.webm", import.meta.url)),
}));
const turns = [
  ["Coach", "Hi! What can I get you today?"],
  ["Learner", "I would like a flat white and a croissant, please."],
];
for (const [position, [speaker, text]] of turns.entries()) {
  const turn = { item_id: `item_weight_${position}`, speaker, text, state: "Final", start_ms: position * 3000, end_ms: position * 3000 + 2500, position };
  await must("turn", api("/api/practice/turn", { method: "POST", data: { session, turn } }));
}
await must("end", api("/api/practice/end", { method: "POST", data: { session, turns: 2, words_used: [] } }));
for (let tries = 0; ; tries += 1) {
  const feedback = await (await must("feedback", api(`/api/feedback/get?session=${session}`, { method: "GET" }))).json();
  if (feedback?.status === "Ready") break;
  if (tries === 60) throw new Error(`the feedback was not ready: ${JSON.stringify(feedback)}`);
  await new Promise((done) => setTimeout(done, 500));
}

const PAGES = [
  ["topics", "/topics", 60],
  ["topic", "/topics/ordering-at-a-cafe", 60],
  ["history", "/history", 60],
  ["progress", "/progress", 60],
  ["account", "/account", 60],
  ["call", "/topics/ordering-at-a-cafe/practice", 190],
  ["replay", `/practice/${session}`, 120],
];
const brotli = (body) =>
  brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
const kb = (bytes) => (bytes / 1024).toFixed(0).padStart(5);

console.log("page weight (scripts, wasm, styles; KB)       raw  brotli   goal        html");
for (const [name, path, goal] of PAGES) {
  const fresh = await context.newPage();
  const assets = [];
  fresh.on("response", async (response) => {
    const url = response.url();
    if (/\.(js|wasm|css)(\?|$)/.test(url)) {
      assets.push(response.body().then((body) => ({ url, raw: body.length, brotli: brotli(body) })));
    }
  });
  const document = await fresh.goto(`${base}${path}`, { waitUntil: "networkidle" });
  const html = brotli(await document.body());
  const got = await Promise.all(assets);
  await fresh.close();
  const raw = got.reduce((sum, a) => sum + a.raw, 0);
  const compressed = got.reduce((sum, a) => sum + a.brotli, 0);
  const verdict = compressed <= goal * 1024 ? "met" : "over";
  console.log(`  ${name.padEnd(10)} ${String(got.length).padStart(2)} files${" ".repeat(21)}${kb(raw)}  ${kb(compressed)}  <= ${String(goal).padEnd(3)} ${verdict.padEnd(4)}  ${kb(html)}`);
}
await browser.close();
