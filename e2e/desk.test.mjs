// The browser end-to-end test of the Tandem desk.
//
// Starts the real `tandem serve` binary on a free port with a fresh data dir, drives Debian's
// headless Chromium through playwright-core, and plays the whole story: a customer asks the bot in
// the widget, asks for a person, an agent (second browser context) logs in to the console, sees the
// full transcript with the handoff reasons and replies, and the customer sees the reply live.
// Plus an accessibility smoke check of the public pages and the console.
//
// No sleeps: every wait is on the server's "listening" line or on a page condition.
// Run it with scripts/e2e.sh (or `node --test` in e2e/ with TANDEM_BIN set).

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { BIN, CHROMIUM, ROOT, SHOTS, startDesk, assertA11y } from "./support.mjs";

const FAILURES = join(ROOT, "e2e", "test-results");

const QUESTION = "Wie lange dauert der Versand?";
const ANSWER_PART = "1–3 Werktagen"; // from the demo playbook's delivery_time answer
const PERSON = "Ich möchte mit einem Mitarbeiter sprechen";
const HANDOFF_PART = "Ich verbinde Sie mit einer Kollegin oder einem Kollegen";
const AGENT = { email: "ben@demo.tandem", password: "tandem-demo-ben", name: "Ben Berger" };
const REPLY = "Hallo, hier ist Ben. Ihre Bestellung verlässt unser Lager heute noch – morgen ist sie bei Ihnen.";
const THANKS = "Super, vielen Dank!";

// ---------------------------------------------------------------------------------------------
// The desk process

// ---------------------------------------------------------------------------------------------
// Page helpers

/** The widget's log as [{author, text}], without the author badge ("Sie", "Assistent", ...). */
function widgetLog(page) {
  return page.$$eval("ol.tw-log > li.tw-msg", (lis) =>
    lis.map((li) => {
      const who = li.querySelector(".tw-who");
      const text = li.textContent.slice(who ? who.textContent.length : 0);
      return { author: li.getAttribute("data-author"), text };
    }),
  );
}

/** The console transcript as [{author, text}]. */
function transcript(page) {
  return page.$$eval("#transcript > li.msg", (lis) =>
    lis.map((li) => ({
      author: ["customer", "bot", "agent", "system"].find((a) => li.classList.contains(a)),
      text: li.querySelector(".text").textContent,
    })),
  );
}

/** Waits until the widget script has built its launcher and panel. */
async function widgetReady(page) {
  await page.locator('.tandem-widget[data-ready="true"]').waitFor({ state: "attached" });
}

// ---------------------------------------------------------------------------------------------

let desk;
let browser;

before(async () => {
  rmSync(FAILURES, { recursive: true, force: true });
  desk = await startDesk();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

after(async () => {
  await browser?.close();
  await desk?.stop();
});

describe("accessibility smoke", { timeout: 120_000 }, () => {
  for (const [path, lang, labels] of [
    ["/", "de", ["Ihre Nachricht"]],
    ["/?lang=en", "en", ["Your message"]],
    ["/console/login", "de", ["E-Mail", "Passwort"]],
    ["/console/login?lang=en", "en", ["E-mail", "Password"]],
  ]) {
    it(`${path}: lang="${lang}", every form control labelled`, async () => {
      const context = await browser.newContext({ locale: "de-DE" });
      try {
        const page = await context.newPage();
        await page.goto(desk.url + path);
        if (path.startsWith("/?") || path === "/") {
          await widgetReady(page);
          const launcher = page.getByRole("button", { name: lang === "de" ? "Fragen? Chat" : "Questions? Chat" });
          assert.equal(await launcher.getAttribute("aria-expanded"), "false");
        }
        for (const label of labels) {
          assert.equal(await page.getByLabel(label, { exact: true }).count(), 1, `exactly one control labelled "${label}" on ${path}`);
        }
        await assertA11y(page, lang);
      } finally {
        await context.close();
      }
    });
  }
});

describe("the whole story: bot, handoff, agent, reply", { timeout: 300_000 }, () => {
  let customerCtx, agentCtx, customer, agent, conversationId;
  let failed = false;
  // The steps build on each other: after the first failure the rest are skipped, not failed again.
  const step = (name, fn, options = {}) =>
    it(name, options, async (t) => {
      if (failed) return t.skip("an earlier step failed");
      try {
        await fn(t);
      } catch (e) {
        failed = true;
        mkdirSync(FAILURES, { recursive: true });
        const slug = name.replace(/[^a-z0-9]+/gi, "-").slice(0, 40);
        await customer?.screenshot({ path: join(FAILURES, `${slug}-customer.png`) }).catch(() => {});
        await agent?.screenshot({ path: join(FAILURES, `${slug}-agent.png`), fullPage: true }).catch(() => {});
        writeFileSync(join(FAILURES, "tandem.log"), desk.output.join("\n") + "\n");
        console.error(`screenshots and the desk's output are in ${FAILURES}`);
        throw e;
      }
    });

  before(async () => {
    customerCtx = await browser.newContext({ locale: "de-DE", viewport: { width: 1100, height: 760 } });
    agentCtx = await browser.newContext({ locale: "de-DE", viewport: { width: 1366, height: 900 } });
    // The agent allowed notifications; the test records what would be shown.
    await agentCtx.grantPermissions(["notifications"], { origin: desk.url });
    await agentCtx.addInitScript(() => {
      window.__notifications = [];
      const Real = window.Notification;
      window.Notification = class extends Real {
        constructor(title, options) {
          super(title, options);
          window.__notifications.push((options && options.body) || title);
        }
      };
    });
    customer = await customerCtx.newPage();
    agent = await agentCtx.newPage();
  });

  after(async () => {
    await customerCtx?.close();
    await agentCtx?.close();
  });

  step("1. the customer asks a routine question and the bot answers", async () => {
    await customer.goto(desk.url + "/");
    assert.equal(await customer.getAttribute("html", "lang"), "de");
    await widgetReady(customer);
    // A marker that only survives as long as the page is not reloaded (checked in step 4).
    await customer.evaluate(() => { window.__tandemE2eMarker = "no reload"; });

    const launcher = customer.getByRole("button", { name: "Fragen? Chat" });
    await launcher.click();
    assert.equal(await launcher.getAttribute("aria-expanded"), "true");
    await customer.getByRole("region", { name: "Kundenservice" }).waitFor();
    await customer.locator("li.tw-msg.bot", { hasText: "Wie kann ich helfen?" }).waitFor();
    assert.equal(await customer.evaluate(() => document.activeElement && document.activeElement.id), "tandem-input", "opening the widget focuses the message box");

    const input = customer.getByLabel("Ihre Nachricht");
    await input.fill(QUESTION);
    await input.press("Enter"); // Enter sends
    await customer.locator("li.tw-msg.bot", { hasText: ANSWER_PART }).waitFor();
    assert.equal(await input.inputValue(), "", "the message box is cleared after sending");

    const log = await widgetLog(customer);
    assert.deepEqual(log.map((m) => m.author), ["bot", "customer", "bot"]);
    assert.equal(log[1].text, QUESTION);
    assert.match(log[2].text, /Innerhalb Deutschlands liefern wir in 1–3 Werktagen/);
    assert.equal(await customer.locator(".tw-msg.customer .tw-who").first().textContent(), "Sie");
    assert.equal(await customer.locator(".tw-msg.bot .tw-who").first().textContent(), "Assistent");

    const stored = await customer.evaluate(() => {
      const key = Object.keys(localStorage).find((k) => k.startsWith("tandem.conversation."));
      return key ? JSON.parse(localStorage.getItem(key)) : null;
    });
    assert.ok(stored && stored.id && stored.token, "the widget keeps the conversation id and token in localStorage");
    conversationId = stored.id;
  });

  step("2. the customer asks for a person and is queued", async () => {
    await customer.getByLabel("Ihre Nachricht").fill(PERSON);
    await customer.getByRole("button", { name: "Senden", exact: true }).click();
    await customer.locator("li.tw-msg.bot", { hasText: HANDOFF_PART }).waitFor();
    // Nobody is online yet, so the conversation waits in the queue.
    await customer.locator(".tw-status", { hasText: "Sie sind in der Warteschlange" }).waitFor();

    // While waiting, the widget offers to continue by e-mail; the customer takes it.
    const offer = customer.locator("form.tw-mail");
    await offer.waitFor();
    await customer.getByLabel("Lieber die Antwort per E-Mail? Ihre Adresse:").fill("kim@kunde.example");
    await customer.getByRole("button", { name: "Per E-Mail" }).click();
    await customer.locator("li.tw-msg.system", { hasText: "Die Antwort kommt per E-Mail an kim@kunde.example." }).waitFor();
    await offer.waitFor({ state: "hidden" });

    const log = await widgetLog(customer);
    assert.deepEqual(log.map((m) => m.author), ["bot", "customer", "bot", "customer", "bot", "system"]);
    assert.equal(log[3].text, PERSON);
    assert.match(log[4].text, /Ihr bisheriger Verlauf wird übergeben/);
  });

  step("3a. the agent logs in and finds the conversation in the inbox", async () => {
    await agent.goto(desk.url + "/console");
    await agent.waitForURL(/\/console\/login/); // not signed in yet
    await assertA11y(agent, "de");
    await agent.getByLabel("E-Mail").fill(AGENT.email);
    await agent.getByLabel("Passwort").fill(AGENT.password);
    await agent.getByRole("button", { name: "Anmelden" }).click();
    await agent.waitForURL((u) => u.pathname === "/console");

    assert.equal((await agent.locator("header.site .me").textContent()).trim(), AGENT.name);
    assert.equal(await agent.locator("#presence").inputValue(), "online", "logging in sets the agent online");
    // Ben is the only agent online, so the router gave him the queued conversation.
    const entry = agent.locator("#mine > li", { has: agent.locator(`a[href="/console/c/${conversationId}"]`) });
    await entry.waitFor();
    assert.match(await entry.locator("a").textContent(), /zugewiesen/);
    assert.equal(await entry.locator('.reasons li[data-reason="human_requested"]').textContent(), "Wunsch nach einem Menschen");
    assert.equal(await agent.locator(`#queue a[href="/console/c/${conversationId}"]`).count(), 0, "no longer in the queue");
    await assertA11y(agent, "de");
  });

  step("3b. the customer sees live that the agent took over", async () => {
    await customer.locator("li.tw-msg.system", { hasText: `${AGENT.name} hat das Gespräch übernommen.` }).waitFor();
    await customer.locator(".tw-status", { hasText: `Verbunden mit ${AGENT.name}` }).waitFor();
  });

  step("3c. the agent sees the whole transcript with the handoff reasons and replies", async () => {
    await agent.locator(`#mine a[href="/console/c/${conversationId}"]`).click();
    await agent.waitForURL((u) => u.pathname === `/console/c/${conversationId}`);
    await agent.locator("#transcript").waitFor();

    const msgs = await transcript(agent);
    assert.deepEqual(msgs.map((m) => m.author), ["customer", "bot", "customer", "bot", "system", "system"]);
    assert.equal(msgs[0].text, QUESTION);
    assert.match(msgs[1].text, /1–3 Werktagen/);
    assert.equal(msgs[2].text, PERSON);
    assert.match(msgs[3].text, new RegExp(HANDOFF_PART));
    assert.equal(msgs[4].text, "Die Antwort kommt per E-Mail an kim@kunde.example.");
    assert.equal(msgs[5].text, `${AGENT.name} hat das Gespräch übernommen.`);
    assert.deepEqual(await agent.locator("#transcript > li.msg .author").allTextContents(), ["Kunde", "Bot", "Kunde", "Bot", "System", "System"]);
    // The customer chose e-mail: the agent sees the channel, the address, and that mail is off here.
    assert.match(await agent.locator("main .channel").first().textContent(), /E-Mail/);
    assert.match(await agent.locator("section.mail").textContent(), /kim@kunde\.example/);
    assert.match(await agent.locator("section.mail .note").textContent(), /E-Mail ist auf diesem Desk aus/);
    assert.match(await agent.locator('label[for="reply-text"]').textContent(), /wird per E-Mail gesendet/);

    // Three panes: the inbox on the left (this conversation marked), the transcript in the middle,
    // the context on the right (the customer, the machine's view, answers to insert).
    const inboxPane = agent.getByRole("navigation", { name: "Posteingang" });
    assert.equal(await inboxPane.locator(`#mine a[href="/console/c/${conversationId}"][aria-current="page"]`).count(), 1);
    const context = agent.getByRole("complementary", { name: "Kontext" });
    assert.match(await context.locator(".customer-email").textContent(), /kim@kunde\.example/);
    const panes = await Promise.all([inboxPane, agent.locator(".pane-talk"), context].map((l) => l.boundingBox()));
    assert.ok(panes[0].x + panes[0].width <= panes[1].x && panes[1].x + panes[1].width <= panes[2].x, "side by side, left to right");
    // The filter hides the conversations that do not match, and shows them again.
    const filter = agent.getByLabel("Filtern");
    await filter.fill("zzz-nichts");
    assert.equal(await inboxPane.locator("#mine > li:visible").count(), 0);
    await filter.fill("");
    assert.equal(await inboxPane.locator("#mine > li:visible").count(), 1);
    // An answer from the playbook goes into the reply with one click.
    const insert = context.getByRole("button", { name: "In die Antwort übernehmen" }).first();
    const offered = await context.locator(".offer-text").first().textContent();
    await insert.click();
    assert.equal(await agent.getByLabel("Antwort").inputValue(), offered);
    const reasons = context.getByRole("list", { name: "Übergabegründe" });
    assert.equal(await reasons.locator('li[data-reason="human_requested"]').textContent(), "Wunsch nach einem Menschen");
    // Beside the reasons: where the bot would have started (its best guess first).
    const guesses = context.locator("p.guesses");
    assert.ok(await guesses.isVisible(), "the bot's guesses are shown");
    assert.match(await guesses.textContent(), /^Der Bot vermutete: [a-z_]+ \(0,\d\d\)/);
    assert.equal((await agent.locator("#conv-state").textContent()).trim(), "zugewiesen");
    await assertA11y(agent, "de");

    await agent.getByLabel("Antwort").fill(REPLY);
    await agent.locator("#reply").getByRole("button", { name: "Senden" }).click();
    await agent.locator("#transcript > li.msg.agent", { hasText: REPLY }).waitFor();
    assert.equal(await agent.getByLabel("Antwort").inputValue(), "", "the reply box is cleared");
    assert.equal(await agent.locator("#transcript > li.msg.agent").count(), 1, "the reply shows once (no duplicate from the live stream)");
    assert.equal(new URL(agent.url()).pathname, `/console/c/${conversationId}`);

    mkdirSync(SHOTS, { recursive: true });
    await agent.screenshot({ path: join(SHOTS, "console.png"), fullPage: true });
  });

  step("3d. a canned response is inserted by keyboard", async () => {
    // Ben keeps a response of his own (through the API), with a variable filled in for him.
    const login = await fetch(desk.url + "/api/v1/auth/token", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email: AGENT.email, password: AGENT.password }),
    }).then((r) => r.json());
    const created = await fetch(desk.url + "/api/v1/canned-responses", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + login.token },
      body: JSON.stringify({ title: "Geduld", text: "Danke für Ihre Geduld! {{agent.name}}", locale: "de" }),
    });
    assert.equal(created.status, 201);
    await agent.reload();
    const box = agent.locator("#reply-text");
    await box.fill("");
    await box.press("/"); // "/" in the empty box moves to the picker…
    assert.equal(await agent.evaluate(() => document.activeElement && document.activeElement.id), "canned");
    await agent.keyboard.press("Enter"); // …and Enter inserts the chosen response
    assert.equal(await box.inputValue(), `Danke für Ihre Geduld! ${AGENT.name}`);
    assert.equal(await agent.evaluate(() => document.activeElement && document.activeElement.id), "reply-text");
    await assertA11y(agent, "de");
    await box.fill("");
    // The shortcuts: "?" lists them, Escape closes the list, "r" goes to the reply box.
    await agent.locator("h1").click();
    await agent.keyboard.press("?");
    const shortcuts = agent.getByRole("dialog", { name: "Tastenkürzel" });
    await shortcuts.waitFor();
    assert.match(await shortcuts.textContent(), /Gespräch erledigen/);
    await assertA11y(agent, "de");
    await agent.keyboard.press("Escape");
    await shortcuts.waitFor({ state: "hidden" });
    await agent.keyboard.press("r");
    assert.equal(await agent.evaluate(() => document.activeElement && document.activeElement.id), "reply-text");
  });

  step("3e. an internal note is for colleagues only", async () => {
    const NOTE = "Stammkundin – Kulanz möglich";
    await agent.locator("#note-text").fill(NOTE);
    await agent.getByRole("button", { name: "Notiz speichern" }).click();
    const note = agent.locator("#transcript > li.msg.note", { hasText: NOTE });
    await note.waitFor();
    assert.equal(await note.locator(".author").textContent(), "Interne Notiz");
    // The customer's widget, live and on a fresh read, never shows it.
    await customer.waitForTimeout(500);
    assert.ok(!(await widgetLog(customer)).some((m) => m.text.includes("Kulanz")), "the note reached the widget");
    const stored = await customer.evaluate(() => {
      const key = Object.keys(localStorage).find((k) => k.startsWith("tandem.conversation."));
      return JSON.parse(localStorage.getItem(key));
    });
    const read = await fetch(`${desk.url}/api/v1/conversations/${stored.id}`, { headers: { Authorization: "Bearer " + stored.token } }).then((r) => r.json());
    assert.ok(!JSON.stringify(read.messages).includes("Kulanz"), "the note is in the customer's read");
  });

  step("3f. each side sees the other typing", async () => {
    // Keep typing until the other side shows it: a signal goes out at most every 3 s, and the
    // other page's live stream may still be connecting.
    async function typeUntil(box, shown) {
      const deadline = Date.now() + 20000;
      while (!(await shown.isVisible())) {
        assert.ok(Date.now() < deadline, "the other side never showed the typing");
        await box.press("a");
        await box.page().waitForTimeout(400);
      }
      await box.fill("");
    }
    await typeUntil(customer.getByLabel("Ihre Nachricht"), agent.locator("#typing", { hasText: "Kunde schreibt" }));
    await typeUntil(agent.locator("#reply-text"), customer.locator(".tw-typing", { hasText: "Mitarbeiter schreibt" }));
  });

  step("4. the customer sees the reply without reloading", async () => {
    const reply = customer.locator("li.tw-msg.agent", { hasText: REPLY });
    await reply.waitFor();
    assert.equal(await customer.evaluate(() => window.__tandemE2eMarker), "no reload", "the page was not reloaded");
    assert.equal(await reply.locator(".tw-who").textContent(), "Mitarbeiter");
    const log = await widgetLog(customer);
    assert.deepEqual(log.map((m) => m.author), ["bot", "customer", "bot", "customer", "bot", "system", "system", "agent"]);
    assert.equal(log[7].text, REPLY);
    assert.equal(await customer.locator("li.tw-msg.agent").count(), 1, "the reply shows once");

    mkdirSync(SHOTS, { recursive: true });
    await customer.screenshot({ path: join(SHOTS, "widget.png") });
  });

  step("5. the conversation is kept across a reload, and it still works live both ways", async () => {
    const before = (await widgetLog(customer)).slice(1); // without the local welcome message
    await customer.reload();
    await widgetReady(customer);
    assert.equal(await customer.evaluate(() => window.__tandemE2eMarker), undefined, "the page was reloaded");
    await customer.getByRole("button", { name: "Fragen? Chat" }).click();
    await customer.locator("li.tw-msg.agent", { hasText: REPLY }).waitFor();
    assert.deepEqual(await widgetLog(customer), before, "the same messages, in the same order, and no welcome message");
    await customer.locator(".tw-status", { hasText: `Verbunden mit ${AGENT.name}` }).waitFor();

    // After the reload the widget still writes to the same conversation, and the agent sees it live.
    await customer.getByLabel("Ihre Nachricht").fill(THANKS);
    await customer.getByLabel("Ihre Nachricht").press("Enter");
    await customer.locator("li.tw-msg.customer", { hasText: THANKS }).waitFor();
    await agent.locator("#transcript > li.msg.customer", { hasText: THANKS }).waitFor();
    await agent.locator("#live-status", { hasText: "Neue Nachricht vom Kunden." }).waitFor();
    assert.equal(new URL(agent.url()).pathname, `/console/c/${conversationId}`);
    const ids = await agent.locator("#transcript > li.msg").evaluateAll((lis) => lis.map((li) => li.getAttribute("data-id")));
    assert.equal(new Set(ids).size, ids.length, "no message shows twice in the console");
    const msgs = await transcript(agent);
    assert.deepEqual(msgs.filter((m) => m.author === "customer").map((m) => m.text), [QUESTION, PERSON, THANKS]);
    assert.deepEqual(msgs.filter((m) => m.author === "agent").map((m) => m.text), [REPLY]);
    // Read on screen: the console tells the server, so nothing of it counts as unread.
    await agent.waitForFunction(async (id) => {
      const w = await fetch("/api/v1/agent/conversations", { credentials: "same-origin" }).then((r) => r.json());
      const c = w.conversations.find((x) => x.id === id);
      return c && c.unread === 0;
    }, conversationId, { polling: 200, timeout: 10000 });
  });

  step("6. the inbox updates live when a second customer (in English) asks for a person", async () => {
    await agent.getByRole("link", { name: "Posteingang" }).click();
    await agent.waitForURL((u) => u.pathname === "/console");
    await agent.locator("#mine > li").first().waitFor();
    assert.equal(await agent.locator("#mine > li").count(), 1);
    assert.equal(await agent.locator("#mine-h .count").textContent(), "(1)");

    const otherCtx = await browser.newContext({ locale: "en-GB" });
    try {
      const other = await otherCtx.newPage();
      await other.goto(desk.url + "/?lang=en");
      await widgetReady(other);
      await other.getByRole("button", { name: "Questions? Chat" }).click();
      await other.getByLabel("Your message").fill("I would like to talk to a human, please");
      await other.getByRole("button", { name: "Send", exact: true }).click();
      await other.locator("li.tw-msg.bot", { hasText: "I'm passing you on to a colleague" }).waitFor();
      // Ben is online with free capacity, so he gets it at once.
      await other.locator(".tw-status", { hasText: `Connected with ${AGENT.name}` }).waitFor();
      await other.locator("li.tw-msg.system", { hasText: `${AGENT.name} has joined the conversation.` }).waitFor();
    } finally {
      await otherCtx.close();
    }

    // The agent's inbox, still open and not reloaded, shows the new conversation.
    await agent.locator("#mine > li").nth(1).waitFor();
    assert.equal(await agent.locator("#mine > li").count(), 2);
    assert.equal(await agent.locator("#mine-h .count").textContent(), "(2)", "the heading's count follows the list");
    assert.equal(await agent.locator('#mine .reasons li[data-reason="human_requested"]').count(), 2);
    await agent.locator("#live-status", { hasText: "Posteingang aktualisiert." }).waitFor();
    // Ben was told: a desktop notification (granted by the test).
    await agent.waitForFunction(() => window.__notifications.includes("Neues Gespräch für Sie."));
    // The new conversation's message is unread; the first one, read on screen, shows no count.
    const first = agent.locator(`#mine a[href="/console/c/${conversationId}"]`);
    const fresh = agent.locator("#mine > li", { hasNot: first });
    assert.equal(await fresh.locator(".unread .sr-only").textContent(), "1 ungelesene Nachricht");
    assert.equal(await agent.locator("#mine > li", { has: first }).locator(".unread").count(), 0);
    await assertA11y(agent, "de");
  });

  step("6b. the search finds a conversation by what was written in it", async () => {
    const field = agent.getByLabel("Filtern");
    await field.fill("lager heute");
    await field.press("Enter");
    await agent.waitForURL((u) => u.pathname === "/console/search");
    await agent.locator(`#results a[href="/console/c/${conversationId}"]`).waitFor();
    assert.equal(await agent.locator("#results > li").count(), 1, "only the conversation that holds the words");
    assert.equal(await agent.getByLabel("Filtern").inputValue(), "lager heute", "the words stay in the field");
    assert.equal(await agent.locator('nav.lang a[lang="en"]').getAttribute("href"), "/console/search?q=lager%20heute&lang=en", "and in the language switch");
    await assertA11y(agent, "de");
    await agent.getByRole("link", { name: "Posteingang" }).click();
    await agent.waitForURL((u) => u.pathname === "/console");
  });

  step("7. the agent resolves the conversation and the customer rates it", async () => {
    await agent.locator(`#mine a[href="/console/c/${conversationId}"]`).click();
    await agent.waitForURL((u) => u.pathname === `/console/c/${conversationId}`);
    await agent.getByRole("button", { name: "Erledigt" }).click();
    // Either the inbox or an error page: fail with the page's message rather than a timeout.
    await agent.locator('main[data-page="inbox"], [role="alert"]').first().waitFor();
    const alert = agent.locator('[role="alert"]');
    assert.equal(await alert.count(), 0, `resolving failed: ${(await alert.allTextContents()).join(" ")}`);
    assert.equal(new URL(agent.url()).pathname, "/console");
    await agent.locator("#mine > li").first().waitFor();
    assert.equal(await agent.locator(`#mine a[href="/console/c/${conversationId}"]`).count(), 0, "a resolved conversation leaves the inbox");

    await customer.locator("li.tw-msg.system", { hasText: "Das Gespräch wurde abgeschlossen." }).waitFor();
    await customer.getByRole("button", { name: "5 von 5" }).click();
    await customer.locator(".tw-rate", { hasText: "Danke für Ihre Bewertung!" }).waitFor();
  });

  step("8. on a 360 px phone, in dark mode with reduced motion, the widget fits and stays accessible", async () => {
    const phoneCtx = await browser.newContext({ locale: "de-DE", viewport: { width: 360, height: 740 }, colorScheme: "dark", reducedMotion: "reduce" });
    try {
      const phone = await phoneCtx.newPage();
      await phone.goto(desk.url + "/");
      await widgetReady(phone);
      await phone.getByRole("button", { name: "Fragen? Chat" }).click();
      const panel = phone.getByRole("region", { name: "Kundenservice" });
      await panel.waitFor();
      const box = await panel.boundingBox();
      assert.ok(box.x >= 0 && box.x + box.width <= 360, `the panel fits the screen: ${JSON.stringify(box)}`);
      assert.ok(box.width >= 320, "and uses its width");
      await phone.getByLabel("Ihre Nachricht").fill(QUESTION);
      await phone.getByLabel("Ihre Nachricht").press("Enter");
      await phone.locator("li.tw-msg.bot", { hasText: ANSWER_PART }).waitFor();
      await assertA11y(phone, "de");
      mkdirSync(SHOTS, { recursive: true });
      await phone.screenshot({ path: join(SHOTS, "widget-phone.png") });
    } finally {
      await phoneCtx.close();
    }
  });
});
