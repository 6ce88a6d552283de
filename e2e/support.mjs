// Shared by the browser tests: where things are, and the real `tandem serve` process.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const BIN = resolve(ROOT, process.env.TANDEM_BIN || "target/debug/tandem");
export const CHROMIUM = process.env.TANDEM_E2E_CHROMIUM || "/usr/bin/chromium";
export const SHOTS = join(ROOT, "docs", "screenshots");
/** axe-core (MPL-2.0, pinned in package.json), injected into the pages under test. */
const AXE_SOURCE = readFileSync(join(ROOT, "e2e", "node_modules", "axe-core", "axe.min.js"), "utf8");
const START_TIMEOUT_MS = 120_000; // a debug build on a busy 2-core machine can be slow to index

/** Starts `tandem serve` on 127.0.0.1:0 and resolves once it prints the address it listens on. */
export async function startDesk() {
  const dataDir = mkdtempSync(join(tmpdir(), "tandem-e2e-"));
  // A TANDEM_* variable from the caller's shell (playbook, database URL, bind, ...) must not leak in.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("TANDEM_") || k === "TANDEM_LOG"));
  env.NO_COLOR = "1";
  // `--encoder off`: the browser tests run on the fast path and never fetch the encoder's model.
  const child = spawn(BIN, ["serve", "--bind", "127.0.0.1:0", "--data-dir", dataDir, "--encoder", "off"], {
    cwd: dataDir,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = []; // the last lines, shown when something fails
  const keep = (line) => {
    output.push(line);
    if (output.length > 200) output.shift();
  };
  createInterface({ input: child.stderr }).on("line", keep);
  const exited = new Promise((res) => child.once("exit", (code, signal) => res({ code, signal })));
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);

  const url = await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`tandem did not report its address within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    child.once("error", (e) => {
      clearTimeout(timer);
      rej(new Error(`cannot start ${BIN}: ${e.message}`));
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      rej(new Error(`tandem exited before listening (code ${code}, signal ${signal})`));
    });
    createInterface({ input: child.stdout }).on("line", (line) => {
      keep(line);
      // `Tandem desk "Beispiel-Shop" (16 intents) on http://127.0.0.1:PORT/`
      const m = /^Tandem desk ".*" \(\d+ intents\) on (http:\/\/127\.0\.0\.1:\d+)\/?\s*$/.exec(line.replace(/\x1b\[[0-9;]*m/g, ""));
      if (m) {
        clearTimeout(timer);
        res(m[1]);
      }
    });
  }).catch((e) => {
    child.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
    e.message += `\n--- tandem output ---\n${output.join("\n")}`;
    throw e;
  });

  return {
    url,
    output,
    async stop() {
      process.removeListener("exit", killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const forced = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(forced);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Accessibility smoke problems of the current page: language, labels, button names, title. */
export function a11yProblems(page) {
  return page.evaluate(() => {
    const problems = [];
    const text = (el) => (el ? el.textContent.replace(/\s+/g, " ").trim() : "");
    const byIds = (ids) => ids.split(/\s+/).map((id) => text(document.getElementById(id))).join(" ").trim();
    const describe = (el) => `<${el.tagName.toLowerCase()}${el.id ? " id=" + el.id : ""}${el.name ? " name=" + el.name : ""}>`;
    if (!/^[a-z]{2}(-[A-Za-z]{2})?$/.test(document.documentElement.lang || "")) problems.push(`<html> has no valid lang ("${document.documentElement.lang}")`);
    if (!document.title.trim()) problems.push("the page has no <title>");
    for (const el of document.querySelectorAll("input, textarea, select")) {
      if (el.type === "hidden") continue;
      const name =
        (el.getAttribute("aria-label") || "").trim() ||
        (el.getAttribute("aria-labelledby") ? byIds(el.getAttribute("aria-labelledby")) : "") ||
        Array.from(el.labels || []).map(text).join(" ").trim();
      if (!name) problems.push(`${describe(el)} has no label`);
    }
    for (const el of document.querySelectorAll("button, [role=button]")) {
      const name = (el.getAttribute("aria-label") || "").trim() || text(el);
      if (!name) problems.push(`${describe(el)} has no accessible name`);
    }
    for (const el of document.querySelectorAll("img")) {
      if (!el.hasAttribute("alt")) problems.push(`${describe(el)} has no alt`);
    }
    const ids = {};
    for (const el of document.querySelectorAll("[id]")) {
      if (ids[el.id]) problems.push(`duplicate id "${el.id}"`);
      ids[el.id] = true;
    }
    return problems;
  });
}

/** axe-core's serious and critical violations on the current page (WCAG 2.1 A and AA rules). */
export async function axeViolations(page) {
  // Evaluated through the browser's debugging protocol, which the page's CSP does not govern.
  if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(AXE_SOURCE);
  const found = await page.evaluate(async () => {
    const r = await window.axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
      resultTypes: ["violations"],
    });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5) }));
  });
  return found.filter((v) => v.impact === "serious" || v.impact === "critical");
}

export async function assertA11y(page, lang) {
  assert.equal(await page.getAttribute("html", "lang"), lang, `page ${page.url()} has lang`);
  assert.deepEqual(await a11yProblems(page), [], `accessibility problems on ${page.url()}`);
  assert.deepEqual(await axeViolations(page), [], `axe-core: serious or critical violations on ${page.url()}`);
}

/** Signs in on the (German) console login page and waits for the inbox. */
export async function signIn(page, deskUrl, { email, password }) {
  await page.goto(deskUrl + "/console/login");
  await page.getByLabel("E-Mail").fill(email);
  await page.getByLabel("Passwort").fill(password);
  await page.getByRole("button", { name: "Anmelden" }).click();
  await page.waitForURL((u) => u.pathname === "/console");
}

/** A page that records CSP violations and script errors. */
export async function watchedPage(context) {
  const page = await context.newPage();
  page.problems = [];
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy|Refused to/i.test(m.text())) page.problems.push(m.text());
  });
  page.on("pageerror", (e) => page.problems.push(`page error: ${e.message}`));
  return page;
}
