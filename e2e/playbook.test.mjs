// The browser end-to-end test of the playbook in the desk (issue 15).
//
// Starts the real `tandem serve` binary (demo playbook). Through the REST API three customers ask
// the same new thing (a newsletter, which the demo shop's playbook does not know), and Ben answers
// and resolves each. Then an admin, in Chromium: the suggestions page groups the three questions
// (masked), the admin makes them a new intent with an answer; the playbook editor lists it, its
// "try it" box shows the live decision as the admin types, an example is added by keyboard, and
// the version history shows the changes; the intent's settings, a routing rule and
// [out_of_scope] are changed through their forms. Both pages pass axe-core in German and English.
// Screenshots: docs/screenshots/suggestions.png, docs/screenshots/playbook.png.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { CHROMIUM, SHOTS, startDesk, assertA11y, watchedPage, signIn } from "./support.mjs";

const ADMIN = { email: "admin@demo.tandem", password: "tandem-demo-admin" };
const BEN = { email: "ben@demo.tandem", password: "tandem-demo-ben" };

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

async function api(path, { method = "GET", token, body } = {}) {
  const res = await fetch(desk.url + path, {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

async function tokenOf({ email, password }) {
  const r = await api("/api/v1/auth/token", { method: "POST", body: { email, password } });
  assert.equal(r.status, 200);
  return r.json.token;
}

async function eventually(what, check, limitMs = 20_000) {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Types `text` into "try it" as the admin would, reloading the editor until `shown` appears
 * (the new version trains in the background). */
async function tryUntil(page, what, text, shown) {
  await eventually(what, async () => {
    const tryBox = page.getByLabel("Eine Kundennachricht");
    await tryBox.fill("");
    await tryBox.pressSequentially(text, { delay: 5 });
    try {
      await shown.waitFor({ timeout: 2_000 });
      return true;
    } catch {
      await page.reload();
      return false;
    }
  }, 30_000);
}

/** Three customers ask about a newsletter; Ben answers and resolves each. */
async function teamAnswersThreeCustomers() {
  const admin = await tokenOf(ADMIN);
  const ben = await tokenOf(BEN);
  const agents = await api("/api/v1/agents", { token: admin });
  const benId = agents.json.find((a) => a.email === BEN.email).id;
  assert.equal((await api(`/api/v1/agents/${benId}/presence`, { method: "PUT", token: ben, body: { status: "online" } })).status, 204);
  const asked = [
    "Wie melde ich mich für euren Newsletter an? Viele Grüße, Karla Neumann",
    "Gibt es einen Newsletter mit euren Angeboten?",
    "Habt ihr einen Newsletter, den ich abonnieren kann?",
  ];
  for (const text of asked) {
    const opened = await api("/api/v1/conversations", { method: "POST", body: { locale: "de", text } });
    assert.equal(opened.status, 201);
    const { id, token } = opened.json;
    await eventually("Ben gets the conversation", async () => {
      const c = await api(`/api/v1/conversations/${id}`, { token });
      return c.json.assignee && c.json.assignee.id === benId;
    });
    const reply = "Den Newsletter abonnieren Sie unten auf jeder Seite des Shops; er kommt einmal im Monat.";
    assert.equal((await api(`/api/v1/conversations/${id}/messages`, { method: "POST", token: ben, body: { text: reply } })).status, 201);
    assert.equal((await api(`/api/v1/conversations/${id}/resolve`, { method: "POST", token: ben, body: {} })).status, 200);
  }
  return admin;
}

describe("the playbook in the desk", () => {
  it("turns the team's answers into an intent, edited and tried in the browser", async () => {
    const adminToken = await teamAnswersThreeCustomers();
    await eventually("the suggestion", async () => {
      const s = await api("/api/v1/suggestions", { token: adminToken });
      return s.json.suggestions.find((x) => x.count === 3);
    });
    const ctx = await browser.newContext({ locale: "de-DE", viewport: { width: 1280, height: 900 } });
    try {
      const page = await watchedPage(ctx);
      await signIn(page, desk.url, ADMIN);
      await page.getByRole("link", { name: "Vorschläge" }).click();
      await page.waitForURL((u) => u.pathname === "/admin/suggestions");
      const group = page.locator("section.suggestion").first();
      await group.getByText("Gibt es einen Newsletter mit euren Angeboten?").waitFor();
      assert.equal(await group.getByText("Karla").count(), 0, "names are masked");
      await assertA11y(page, "de");
      await page.screenshot({ path: join(SHOTS, "suggestions.png"), fullPage: true });

      await group.getByLabel("Als neuer Intent (Kennung)").fill("newsletter");
      await group.getByLabel("Antwort (en)").fill("Subscribe at the bottom of every page of the shop; it comes once a month.");
      await group.getByRole("button", { name: "Intent anlegen" }).click();
      await page.waitForURL((u) => u.pathname === "/admin/suggestions");
      assert.equal(await page.locator("section.suggestion").count(), 0, "the accepted suggestion is gone");

      await page.getByRole("link", { name: "Playbook" }).click();
      await page.waitForURL((u) => u.pathname === "/admin/playbook");
      await page.locator("summary", { hasText: "newsletter" }).waitFor();
      // Try it, as the admin types: the live model answers with the new intent.
      await tryUntil(page, "the new version is live", "Wie bekomme ich euren Newsletter?",
        page.locator("#try-result ol li:first-child code", { hasText: "newsletter" }));
      assert.match(await page.locator("#try-result").innerText(), /Sicherheit \d\.\d\d/);

      // An example, by keyboard only.
      await page.locator("summary", { hasText: "newsletter" }).focus();
      await page.keyboard.press("Enter");
      const field = page.getByLabel("Neues Beispiel").filter({ visible: true }).first();
      await field.focus();
      await page.keyboard.type("Newsletter abbestellen");
      await page.keyboard.press("Enter");
      await page.waitForURL((u) => u.searchParams.get("saved") !== null);
      await page.getByRole("status").getByText("Gespeichert als Version").waitFor();
      const history = page.locator("table").last();
      await history.getByText("Example added to newsletter").waitFor();
      await history.getByText("Intent newsletter added from suggestion").waitFor();
      await assertA11y(page, "de");
      await page.getByLabel("Eine Kundennachricht").pressSequentially("Gibt es bei euch einen Newsletter?", { delay: 5 });
      await page.locator("#try-result ol li:first-child code", { hasText: "newsletter" }).waitFor();
      await page.screenshot({ path: join(SHOTS, "playbook.png"), fullPage: true });

      // What version 3 changed: the example, and nothing else.
      await page.getByRole("link", { name: "Änderungen in Version 3" }).click();
      await page.waitForURL((u) => u.pathname === "/admin/playbook/diff");
      const added = await page.locator("pre.diff ins").allInnerTexts();
      assert.deepEqual(added.map((l) => l.replace(/\s+/g, " ")), ['+ "Newsletter abbestellen",']);
      assert.equal(await page.locator("pre.diff del").count(), 0);
      await assertA11y(page, "de");

      // The rest of the editor: the newsletter always goes to a person now, and complaints need
      // people level 5; the "try it" box shows the handoff once the new version is live.
      await page.goto(`${desk.url}/admin/playbook`);
      await page.locator("summary", { hasText: "newsletter" }).click();
      const settings = page.getByRole("form", { name: "Einstellungen von newsletter" });
      await settings.getByLabel("Immer an einen Menschen").check();
      await settings.getByRole("button", { name: "Einstellungen speichern" }).click();
      await page.waitForURL((u) => u.searchParams.get("saved") !== null);
      await tryUntil(page, "the handoff is live", "Gibt es bei euch einen Newsletter?",
        page.locator("#try-result", { hasText: "Übergibt an einen Menschen" }));
      const complaint = page.getByRole("form", { name: "Beschwerde" });
      await complaint.getByLabel("Menschen").selectOption("5");
      await complaint.getByRole("button", { name: "Regel speichern" }).click();
      await page.waitForURL((u) => u.searchParams.get("saved") !== null);
      await page.getByRole("form", { name: "Beschwerde" }).getByText("eigene Regel").waitFor();
      assert.equal(await page.getByRole("form", { name: "Beschwerde" }).getByLabel("Menschen").inputValue(), "5");
      await page.getByLabel("Neue Nachricht, die der Bot nie beantwortet").fill("Verkauft ihr auch Konzertkarten?");
      await page.getByLabel("Neue Nachricht, die der Bot nie beantwortet").press("Enter");
      await page.waitForURL((u) => u.searchParams.get("saved") !== null);
      await page.locator("#oos-h + p + ul", { hasText: "Verkauft ihr auch Konzertkarten?" }).waitFor();
      await assertA11y(page, "de");

      for (const path of ["/admin/playbook", "/admin/suggestions"]) {
        await page.goto(`${desk.url}${path}?lang=en`);
        await page.locator("h1").first().waitFor();
        await assertA11y(page, "en");
      }
      assert.deepEqual(page.problems, []);
    } finally {
      await ctx.close();
    }
  });
});
