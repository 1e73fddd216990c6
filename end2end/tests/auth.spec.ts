import { test, expect } from "./fixtures";
import type { Page } from "@playwright/test";

const PASSWORD = "a long enough passphrase";

/** A fresh, never-used email for each test (tests run in parallel against one database). */
function freshEmail(testInfo: { title: string; project: { name: string } }) {
  const slug = testInfo.title.toLowerCase().replace(/[^a-z0-9]+/g, "-").slice(0, 30);
  return `${slug}-${testInfo.project.name}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.org`;
}

/** Signs up as a learner would: asks for the link, opens it in the development mailbox,
 * chooses a password. */
async function signUp(page: Page, email: string) {
  await page.goto("/sign-up");
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Email me a link" }).click();
  await expect(page.getByRole("heading", { name: "Check your email" })).toBeVisible();
  await page.goto(`/dev/mailbox?to=${encodeURIComponent(email)}`);
  await expect(page.getByRole("heading", { name: "Confirm your email for Speaking Coach" })).toBeVisible();
  await page.getByRole("link", { name: /\/confirm-email\?token=/ }).click();
  await expect(page.getByTestId("link-email")).toHaveText(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("link", { name: "Account" })).toBeVisible();
}

for (const javaScriptEnabled of [true, false]) {
  test.describe(`accounts, JavaScript ${javaScriptEnabled ? "on" : "off"}`, () => {
    test.use({ javaScriptEnabled });

    test("sign up, sign out, sign in", async ({ page }, testInfo) => {
      const email = freshEmail(testInfo);
      await signUp(page, email);
      await expect(page).toHaveURL(/\/topics$/);
      await expect(page.getByRole("link", { name: "Account" })).toBeVisible();

      await page.getByRole("link", { name: "Account" }).click();
      await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
      await expect(page.getByText(email)).toBeVisible();
      // What the learner has used of their limits: nothing yet.
      await expect(page.getByTestId("calls-left")).toHaveText("40 calls left today");
      await expect(page.getByTestId("storage-used")).toHaveText("0 MB of 1.0 GB used");

      await page.getByRole("main").getByRole("button", { name: "Sign out" }).click();
      await expect(page).toHaveURL(/\/$/);
      await expect(page.getByRole("link", { name: "Sign in" })).toBeVisible();

      await page.goto("/sign-in");
      await page.getByLabel("Email").fill(email);
      await page.getByLabel("Password").fill(PASSWORD);
      await page.getByRole("button", { name: "Sign in" }).click();
      await expect(page).toHaveURL(/\/topics$/);
      await expect(page.getByRole("link", { name: "Account" })).toBeVisible();
    });

    test("sign-up answers the same for a taken address, and its owner is told by mail", async ({ page }, testInfo) => {
      const email = freshEmail(testInfo);
      await signUp(page, email);
      await page.getByRole("banner").getByRole("button", { name: "Sign out" }).click();
      await expect(page.getByRole("link", { name: "Sign in" })).toBeVisible();

      await page.goto("/sign-up");
      await page.getByLabel("Email").fill(email);
      await page.getByRole("button", { name: "Email me a link" }).click();
      await expect(page.getByRole("heading", { name: "Check your email" })).toBeVisible();
      await expect(page.getByRole("main")).not.toContainText("already");
      await page.goto(`/dev/mailbox?to=${encodeURIComponent(email)}`);
      await expect(page.getByTestId("message").first()).toContainText("You already have a Speaking Coach account");
    });

    test("a wrong password is explained and nothing else changes", async ({ page }, testInfo) => {
      const email = freshEmail(testInfo);
      await signUp(page, email);
      await expect(page.getByRole("link", { name: "Account" })).toBeVisible();
      await page.getByRole("banner").getByRole("button", { name: "Sign out" }).click();
      await expect(page.getByRole("link", { name: "Sign in" })).toBeVisible();

      await page.goto("/sign-in");
      await page.getByLabel("Email").fill(email);
      await page.getByLabel("Password").fill("not the right password");
      await page.getByRole("button", { name: "Sign in" }).click();
      await expect(page.getByRole("alert")).toContainText("don't match an account");
      await expect(page.getByRole("link", { name: "Sign in" })).toBeVisible();
    });

    test("the account page sends a visitor to sign in and back", async ({ page }, testInfo) => {
      const email = freshEmail(testInfo);
      await signUp(page, email);
      await page.getByRole("banner").getByRole("button", { name: "Sign out" }).click();
      await expect(page.getByRole("link", { name: "Sign in" })).toBeVisible();

      await page.goto("/account");
      await expect(page).toHaveURL(/\/sign-in\?next=\/account$/);
      await page.getByLabel("Email").fill(email);
      await page.getByLabel("Password").fill(PASSWORD);
      await page.getByRole("button", { name: "Sign in" }).click();
      await expect(page).toHaveURL(/\/account$/);
      await expect(page.getByText(email)).toBeVisible();
    });
  });
}

test("deleting the account needs confirmation and signs out", async ({ page }, testInfo) => {
  const email = freshEmail(testInfo);
  await signUp(page, email);
  await page.goto("/account");
  await page.getByLabel("I understand that everything in my account will be deleted").check();
  await page.getByRole("button", { name: "Delete my account" }).click();
  await expect(page).toHaveURL(/\/account-deleted$/);
  await expect(page.getByRole("heading", { name: "Your account has been deleted" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Sign in" })).toBeVisible();

  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toContainText("don't match an account");
});
