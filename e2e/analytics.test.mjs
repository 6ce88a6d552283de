// The browser end-to-end test of the analytics dashboard.
//
// Starts the real `tandem serve` binary, creates conversations through the REST API (one the bot
// answers, one handed off), then an admin logs in to the console, follows the top bar's link to
// the dashboard and sees its server-drawn SVG charts (the queue length over time among them), in
// German and in English: on a laptop screen (1440×900) it fits above the fold, each chart's table is
// folded under it and downloads as CSV, and each bar and point takes the keyboard's focus with its value.
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
import { BIN, CHROMIUM, ROOT, SHOTS, startDesk, assertA11y, watchedPage, signIn } from "./support.mjs";

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
  return (await res.json()).id;
}

describe("analytics dashboard", () => {
  it("shows SVG charts to an admin, in German and English", async () => {
    await startConversation("Wie lange dauert der Versand?");
    await startConversation("Ich möchte mit einem Mitarbeiter sprechen");
    const ctx = await browser.newContext({ locale: "de-DE", viewport: { width: 1440, height: 900 } });
    try {
      const page = await watchedPage(ctx);
      await signIn(page, desk.url, ADMIN);
      await page.getByRole("link", { name: "Auswertung" }).click();
      await page.waitForURL((u) => u.pathname === "/admin/dashboard");
      await page.getByRole("heading", { level: 1, name: "Auswertung" }).waitFor();
      await page.locator("svg#chart-reasons rect.bar").first().waitFor();
      assert.ok((await page.locator("svg.chart").count()) >= 5, "five or more charts");
      assert.equal(await page.locator("#f-conversations").textContent(), "2");
      const box = await page.locator("svg#chart-self-service").boundingBox();
      assert.ok(box && box.width > 100 && box.height > 50, "the line chart is drawn");
      // The queue length over time: an SVG with an accessible title, drawn as a line.
      const queueDe = page.getByRole("group", { name: "Wartende Gespräche am Ende jedes Tages" });
      await queueDe.waitFor();
      assert.equal(await queueDe.evaluate((e) => e.id), "chart-queue");
      assert.equal(await page.locator("svg#chart-queue polyline").count(), 1);
      const queueBox = await page.locator("svg#chart-queue").boundingBox();
      assert.ok(queueBox && queueBox.width > 100 && queueBox.height > 50, "the queue chart is drawn");
      await page.getByRole("heading", { level: 2, name: "Warteschlange im Zeitverlauf" }).waitFor();
      // At a glance: tiles and every chart on one laptop screen, the tables folded away.
      const height = await page.evaluate(() => document.documentElement.scrollHeight);
      assert.ok(height <= 900, `the dashboard is ${height} px tall on a 1440×900 screen`);
      const folded = page.locator("details.chart-data");
      assert.ok((await folded.count()) >= 6, "a folded table under every chart");
      assert.equal(await page.locator("details.chart-data[open]").count(), 0);
      const reasons = page.locator("section", { has: page.locator("#chart-reasons") });
      await reasons.getByText(/^Tabelle \(/).click();
      const table = reasons.locator("details table");
      await table.waitFor({ state: "visible" });
      assert.match(await table.textContent(), /Grund.*Gespräche/s);
      // The same numbers as CSV, with the console's cookie.
      const href = await reasons.getByRole("link", { name: "Als CSV herunterladen" }).getAttribute("href");
      const [status, type, disposition, body] = await page.evaluate(async (h) => {
        const r = await fetch(h);
        return [r.status, r.headers.get("content-type"), r.headers.get("content-disposition"), await r.text()];
      }, href);
      assert.equal(status, 200);
      assert.match(type, /^text\/csv/);
      assert.match(disposition, /attachment; filename="tandem-reasons-/);
      assert.equal(body.split("\r\n")[0], "Grund,Gespräche");
      assert.ok(body.trim().split("\r\n").length >= 2, body);
      // A bar takes the keyboard's focus and says its value.
      const bar = page.locator("svg#chart-reasons g.pt").first();
      await bar.focus();
      const focused = await page.evaluate(() => document.activeElement?.getAttribute("aria-label"));
      assert.match(focused ?? "", /: \d+$/);
      await assertA11y(page, "de");
      await page.screenshot({ path: join(SHOTS, "dashboard.png"), fullPage: true });

      await page.getByRole("link", { name: "English" }).click();
      await page.getByRole("heading", { level: 1, name: "Dashboard" }).waitFor();
      await page.locator("svg#chart-reasons rect.bar").first().waitFor();
      assert.ok((await page.locator("svg.chart").count()) >= 5, "five or more charts");
      const queueEn = page.getByRole("group", {
        name: "Conversations waiting in the queue at the end of each day",
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

describe("accessibility of every page an admin sees", () => {
  it("has no serious or critical axe-core violation, in German and English", async () => {
    const id = await startConversation("Ich möchte bitte mit einem Menschen sprechen");
    const ctx = await browser.newContext({ locale: "de-DE", viewport: { width: 1280, height: 900 } });
    try {
      const page = await watchedPage(ctx);
      await signIn(page, desk.url, ADMIN);
      const pages = ["/console", `/console/c/${id}`, "/console/comments", "/admin", "/admin/articles",
        "/admin/audit", "/admin/dashboard", "/admin/playbook", "/admin/playbook/diff", "/admin/suggestions", "/help", "/help/contact", "/console/login", "/console/search?q=Menschen"];
      for (const lang of ["de", "en"]) {
        for (const path of pages) {
          await page.goto(`${desk.url}${path}${path.includes("?") ? "&" : "?"}lang=${lang}`);
          await page.locator("h1").first().waitFor();
          await assertA11y(page, lang);
        }
      }
      assert.deepEqual(page.problems, []);
    } finally {
      await ctx.close();
    }
  });
});
