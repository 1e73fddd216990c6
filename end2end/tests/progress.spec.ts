import { test, expect } from "./fixtures";
import { signUp } from "./calls";

for (const javaScriptEnabled of [true, false]) {
  test.describe(`progress, JavaScript ${javaScriptEnabled ? "on" : "off"}`, () => {
    test.use({ javaScriptEnabled });

    test("a new learner's progress page invites a first session", async ({ page, baseURL }) => {
      await signUp(page, baseURL!, "progress-empty");
      await page.goto("/history");
      await page.getByRole("link", { name: "See your progress" }).click();
      await expect(page).toHaveURL(/\/progress$/);
      await expect(page.getByRole("heading", { name: "Your progress" })).toBeVisible();
      const empty = page.getByTestId("progress-empty");
      await expect(empty.getByRole("heading", { name: "Nothing to chart yet" })).toBeVisible();
      await empty.getByRole("link", { name: "Choose a topic" }).click();
      await expect(page).toHaveURL(/\/topics$/);
    });
  });
}

test("visitors are sent to sign in first", async ({ page }) => {
  await page.goto("/progress");
  await expect(page).toHaveURL(/\/sign-in\?next=\/progress$/);
});
