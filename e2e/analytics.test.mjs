// The browser end-to-end test of the analytics dashboard.
//
// Starts the real `tandem serve` binary, creates conversations through the REST API (one the bot
// answers, one handed off), then an admin logs in to the console, follows the top bar's link to
// the dashboard and sees its server-drawn SVG charts (the queue length over time among them), in
// German and in English.
// Screenshot: docs/screenshots/dashboard.png. Run it with scripts/e2e.sh.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { BIN, CHROMIUM, ROOT, SHOTS, startDesk, assertA11y, watchedPage } from "./support.mjs";

const ADMIN = { email: "admin@demo.tandem", password: "tandem-demo-admin" };

// ---------------------------------------------------------------------------------------------

let desk;
let browser;

before(async () => {
  desk = await startDesk();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  await desk?.stop();
});

async function startConversation(text) {
  const res = await fetch(desk.url + "/api/v1/conversations", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ text, customer: { email: "kim@example.org" } }),
  });
  assert.equal(res.status, 201);
}

describe("analytics dashboard", () => {
  it("shows SVG charts to an admin, in German and English", async () => {
    await startConversation("Wie lange dauert der Versand?");
    await startConversation("Ich möchte mit einem Mitarbeiter sprechen");
    const ctx = await browser.newContext({ locale: "de-DE", viewport: { width: 1000, height: 1400 } });
    try {
      const page = await watchedPage(ctx);
      await page.goto(desk.url + "/console/login");
      await page.getByLabel("E-Mail").fill(ADMIN.email);
      await page.getByLabel("Passwort").fill(ADMIN.password);
      await page.getByRole("button", { name: "Anmelden" }).click();
      await page.waitForURL((u) => u.pathname === "/console");
      await page.getByRole("link", { name: "Auswertung" }).click();
      await page.waitForURL((u) => u.pathname === "/admin/dashboard");
      await page.getByRole("heading", { level: 1, name: "Auswertung" }).waitFor();
      await page.locator("svg#chart-reasons rect.bar").first().waitFor();
      assert.ok((await page.locator("svg.chart").count()) >= 5, "five or more charts");
      assert.equal(await page.locator("#f-conversations").textContent(), "2");
      const box = await page.locator("svg#chart-self-service").boundingBox();
      assert.ok(box && box.width > 100 && box.height > 50, "the line chart is drawn");
      // The queue length over time: an SVG with an accessible title, drawn as a line.
      const queueDe = page.getByRole("img", { name: /^Wartende Gespräche am Ende jedes Tages: / });
      await queueDe.waitFor();
      assert.equal(await queueDe.evaluate((e) => e.id), "chart-queue");
      assert.equal(await page.locator("svg#chart-queue polyline").count(), 1);
      const queueBox = await page.locator("svg#chart-queue").boundingBox();
      assert.ok(queueBox && queueBox.width > 100 && queueBox.height > 50, "the queue chart is drawn");
      await page.getByRole("heading", { level: 2, name: "Warteschlange im Zeitverlauf" }).waitFor();
      await assertA11y(page, "de");
      await page.screenshot({ path: join(SHOTS, "dashboard.png"), fullPage: true });

      await page.getByRole("link", { name: "English" }).click();
      await page.getByRole("heading", { level: 1, name: "Dashboard" }).waitFor();
      await page.locator("svg#chart-reasons rect.bar").first().waitFor();
      assert.ok((await page.locator("svg.chart").count()) >= 5, "five or more charts");
      const queueEn = page.getByRole("img", {
        name: /^Conversations waiting in the queue at the end of each day: /,
      });
      await queueEn.waitFor();
      assert.equal(await queueEn.evaluate((e) => e.id), "chart-queue");
      await page.getByRole("heading", { level: 2, name: "Queue length over time" }).waitFor();
      await assertA11y(page, "en");

      // The date-range form: a range before any conversation shows none.
      await page.getByLabel("From", { exact: true }).fill("2020-01-01");
      await page.getByLabel("To (inclusive)", { exact: true }).fill("2020-01-31");
      await page.getByRole("button", { name: "Show" }).click();
      await page.waitForURL((u) => u.searchParams.get("from") === "2020-01-01");
      assert.equal(await page.locator("#f-conversations").textContent(), "0");
      assert.deepEqual(page.problems, []);
    } finally {
      await ctx.close();
    }
  });
});
