// What the benchmark scripts share: headless Chromium (Debian's) with the fake microphone, and a
// fresh learner.
import { chromium } from "@playwright/test";

/** Headless Chromium whose microphone plays `wav` on a loop (without `wav`: no microphone). */
export function launch(wav, extraArgs = []) {
  const microphone = wav
    ? ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", `--use-file-for-fake-audio-capture=${wav}`]
    : [];
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", ...microphone, ...extraArgs],
  });
}

export const PASSWORD = "a long enough passphrase";

/** Signs up `email` through `request` (a page's or a context's), which keeps the session cookie:
 * asks for the link, reads it in the development mailbox, chooses the password. */
export async function signUp(request, base, email) {
  const headers = { origin: base, accept: "application/json" };
  const asked = await request.post("/api/auth/sign-up", { form: { email }, headers });
  if (asked.status() !== 200) throw new Error(`sign-up: ${asked.status()}`);
  const mailbox = await (await request.get(`/dev/mailbox?to=${encodeURIComponent(email)}`)).text();
  const token = mailbox.match(/\/confirm-email\?token=([0-9a-f]{64})/)?.[1];
  if (!token) throw new Error("sign-up: no link in the development mailbox");
  const finished = await request.post("/api/auth/finish-sign-up", {
    form: { token, password: PASSWORD },
    headers,
  });
  if (finished.status() !== 200) throw new Error(`finish sign-up: ${finished.status()}`);
}
