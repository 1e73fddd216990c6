import { test, expect } from "./fixtures";
import { newestSignUpToken } from "./calls";

// The Realtime standard key must never reach a browser: not in a page, a script, the wasm, the
// stylesheet, nor any server-function answer. script/test gives the app a unique key to look for.
test("the standard API key appears in nothing the browser receives", async ({ page, baseURL }, testInfo) => {
  const key = process.env.SIM_API_KEY;
  test.skip(!key, "needs the simulator's standard key from script/test");
  const bodies: { url: string; body: Buffer }[] = [];
  page.on("response", async (response) => {
    try {
      bodies.push({ url: response.url(), body: await response.body() });
    } catch {
      // Redirects have no body.
    }
  });

  const email = `leak-${testInfo.project.name}-${Date.now()}@example.org`;
  await page.goto("/sign-up");
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Email me a link" }).click();
  await expect(page.getByRole("heading", { name: "Check your email" })).toBeVisible();
  await page.goto(`/confirm-email?token=${await newestSignUpToken(page, email)}`);
  await page.getByLabel("Password").fill("a long enough passphrase");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("link", { name: "Account" })).toBeVisible();
  await page.goto("/topics/ordering-at-a-cafe");
  await page.goto("/account");
  const minted = await page.request.post("/api/voice/start", {
    form: { topic: "ordering-at-a-cafe" },
    headers: { origin: baseURL!, accept: "application/json" },
  });
  expect(minted.status()).toBe(200);
  bodies.push({ url: "/api/voice/start", body: await minted.body() });
  for (const asset of ["/pkg/speaking-coach.js", "/pkg/speaking-coach.wasm", "/pkg/speaking-coach.css"]) {
    const response = await page.request.get(asset);
    expect(response.status()).toBe(200);
    bodies.push({ url: asset, body: await response.body() });
  }

  expect(bodies.length).toBeGreaterThan(8);
  const leaks = bodies.filter(({ body }) => body.includes(key!)).map(({ url }) => url);
  expect(leaks).toEqual([]);
});
