import { defineConfig } from "@playwright/test";

// script/test starts the app on a free port and passes it as BASE_URL. Chromium is Debian's
// (/usr/bin/chromium): Playwright never downloads a browser here.
const CALL_SPECS = [
  /simulator\.spec\.ts/,
  /practice\.spec\.ts/,
  /recovery\.spec\.ts/,
  /reconnect\.spec\.ts/,
  /feedback\.spec\.ts/,
  /replies\.spec\.ts/,
  /hearing\.spec\.ts/,
];

export default defineConfig({
  testDir: "./tests",
  outputDir: "./test-results",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: 2,
  forbidOnly: !!process.env.CI,
  reporter: [["list"]],
  use: {
    baseURL: process.env.BASE_URL ?? "http://127.0.0.1:3000",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        // A fake microphone that plays a spoken sentence (made by script/test with espeak-ng).
        "--use-fake-ui-for-media-stream",
        // replies.spec.ts speaks through Web Audio, which may start before any click.
        "--autoplay-policy=no-user-gesture-required",
        "--use-fake-device-for-media-stream",
        ...(process.env.FAKE_MIC_WAV ? [`--use-file-for-fake-audio-capture=${process.env.FAKE_MIC_WAV}`] : []),
      ],
    },
  },
  // Calls share the one simulator, whose faults and queued transcripts go to the next call: the
  // call specs run one file at a time, after the page specs, each in its own project.
  projects: [
    { name: "desktop", use: { viewport: { width: 1280, height: 800 } }, testIgnore: CALL_SPECS },
    {
      name: "phone",
      use: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true },
      testIgnore: CALL_SPECS,
    },
    {
      name: "simulator",
      use: { viewport: { width: 1280, height: 800 } },
      testMatch: /simulator\.spec\.ts/,
      dependencies: ["desktop", "phone"],
    },
    {
      name: "practice",
      use: { viewport: { width: 1280, height: 800 } },
      testMatch: /practice\.spec\.ts/,
      dependencies: ["simulator"],
    },
    {
      name: "recovery",
      use: { viewport: { width: 1280, height: 800 } },
      testMatch: /recovery\.spec\.ts/,
      dependencies: ["practice"],
    },
    {
      name: "reconnect",
      use: { viewport: { width: 1280, height: 800 } },
      testMatch: /reconnect\.spec\.ts/,
      dependencies: ["recovery"],
    },
    {
      name: "feedback",
      use: { viewport: { width: 1280, height: 800 } },
      testMatch: /feedback\.spec\.ts/,
      dependencies: ["reconnect"],
    },
    {
      name: "replies",
      use: { viewport: { width: 1280, height: 800 } },
      testMatch: /replies\.spec\.ts/,
      dependencies: ["feedback"],
    },
    {
      name: "hearing",
      use: { viewport: { width: 1280, height: 800 } },
      testMatch: /hearing\.spec\.ts/,
      dependencies: ["replies"],
    },
  ],
});
