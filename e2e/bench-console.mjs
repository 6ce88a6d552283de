// A benchmark, not a test: the console's first load in headless Chromium. Starts the real binary
// (TANDEM_BIN, default target/release/tandem) with the demo playbook, hands one conversation to
// an agent, signs in and loads the inbox and the conversation's three panes RUNS times each with a
// cold cache. Prints the bytes of HTML, CSS and JS (as sent, and decoded) and the time until the
// page is interactive (DOMContentLoaded with every deferred script run) and fully loaded.
//
//   TANDEM_BIN=target/release/tandem node e2e/bench-console.mjs [RUNS]

import { chromium } from "playwright-core";
import { CHROMIUM, startDesk, signIn } from "./support.mjs";

const RUNS = Number(process.argv[2] || 20);
const AGENT = { email: "ben@demo.tandem", password: "tandem-demo-ben" };

const desk = await startDesk();
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu"] });
try {
  const ctx = await browser.newContext({ locale: "de-DE", viewport: { width: 1366, height: 900 } });
  const page = await ctx.newPage();
  await signIn(page, desk.url, AGENT);
  const res = await fetch(desk.url + "/api/v1/conversations", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ text: "Ich möchte mit einem Mitarbeiter sprechen", customer: { email: "kim@example.org" } }),
  });
  const { id } = await res.json();
  await page.locator(`#mine a[href="/console/c/${id}"]`).waitFor();
  const cdp = await ctx.newCDPSession(page);
  for (const [name, path] of [["inbox", "/console"], ["conversation (three panes)", `/console/c/${id}`]]) {
    const times = { interactive: [], loaded: [] };
    let bytes = null;
    for (let i = 0; i < RUNS; i++) {
      await cdp.send("Network.clearBrowserCache");
      await page.goto(desk.url + path, { waitUntil: "load" });
      const m = await page.evaluate(() => {
        const nav = performance.getEntriesByType("navigation")[0];
        const kinds = { html: [nav.transferSize, nav.decodedBodySize], css: [0, 0], js: [0, 0] };
        for (const r of performance.getEntriesByType("resource")) {
          const k = r.name.endsWith(".css") ? "css" : r.name.endsWith(".js") ? "js" : null;
          if (k) { kinds[k][0] += r.transferSize; kinds[k][1] += r.decodedBodySize; }
        }
        return { kinds, interactive: nav.domContentLoadedEventEnd, loaded: nav.loadEventEnd };
      });
      bytes = m.kinds;
      times.interactive.push(m.interactive);
      times.loaded.push(m.loaded);
    }
    const median = (v) => v.sort((a, b) => a - b)[Math.floor(v.length / 2)].toFixed(1);
    const kb = ([sent, decoded]) => `${(sent / 1024).toFixed(1)} KiB sent, ${(decoded / 1024).toFixed(1)} KiB decoded`;
    console.log(`${name}: HTML ${kb(bytes.html)}; CSS ${kb(bytes.css)}; JS ${kb(bytes.js)}; ` +
      `interactive (DOMContentLoaded) median ${median(times.interactive)} ms, loaded median ${median(times.loaded)} ms (${RUNS} cold loads)`);
  }
} finally {
  await browser.close();
  await desk.stop();
}
