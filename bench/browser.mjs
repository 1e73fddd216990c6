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

/** Signs up `email` through `request` (a page's or a context's), which keeps the session cookie. */
export async function signUp(request, base, email) {
  const response = await request.post("/api/auth/sign-up", {
    form: { email, password: PASSWORD },
    headers: { origin: base, accept: "application/json" },
  });
  if (response.status() !== 200) throw new Error(`sign-up: ${response.status()}`);
}
