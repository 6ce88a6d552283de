/* Tandem chat widget: one <script src=".../widget.js" defer></script> tag on any page.
 * Keeps the conversation across reloads (localStorage), receives live updates over SSE
 * (read with fetch so the conversation token travels in a header, never in a URL), and
 * renders every text with textContent: no HTML from the server or the customer is ever parsed. */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = new URL(script && script.src ? script.src : "/widget.js", document.baseURI).origin;
  var locale = ((script && script.getAttribute("data-locale")) || document.documentElement.lang || navigator.language || "de").slice(0, 2);
  var de = locale === "de";
  var T = {
    open: de ? "Fragen? Chat" : "Questions? Chat",
    title: de ? "Kundenservice" : "Customer service",
    close: de ? "Chat schließen" : "Close chat",
    label: de ? "Ihre Nachricht" : "Your message",
    placeholder: de ? "Schreiben Sie uns …" : "Write to us …",
    send: de ? "Senden" : "Send",
    you: de ? "Sie" : "You",
    bot: de ? "Assistent" : "Assistant",
    agent: de ? "Mitarbeiter" : "Agent",
    queued: de ? "Sie sind in der Warteschlange" : "You are in the queue",
    soon: de ? " – gleich ist jemand für Sie da." : " – someone will be with you shortly.",
    place: de ? " – Platz " : " – position ",
    wait: de ? ", Wartezeit etwa " : ", expected wait about ",
    minutes: de ? " Min." : " min.",
    nobody: de ? ". Gerade ist niemand erreichbar – schreiben Sie uns gern, wir melden uns." : ". Nobody is available right now – leave a message and we will get back to you.",
    assigned: de ? "Verbunden mit " : "Connected with ",
    resolved: de ? "Wie zufrieden waren Sie?" : "How satisfied were you?",
    thanks: de ? "Danke für Ihre Bewertung!" : "Thank you for your rating!",
    failed: de ? "Senden fehlgeschlagen. Bitte erneut versuchen." : "Sending failed. Please try again.",
    welcome: de ? "Hallo! Wie kann ich helfen?" : "Hello! How can I help?",
    stars: de ? " von 5" : " of 5",
    byMail: de ? "Lieber die Antwort per E-Mail? Ihre Adresse:" : "Rather have the answer by e-mail? Your address:",
    mailSend: de ? "Per E-Mail" : "By e-mail",
    mailBad: de ? "Bitte prüfen Sie die Adresse." : "Please check the address.",
    typing: de ? "Mitarbeiter schreibt …" : "An agent is typing …",
  };
  var KEY = "tandem.conversation." + base;
  var conv = null;
  try { conv = JSON.parse(localStorage.getItem(KEY) || "null"); } catch (e) { conv = null; }
  var seen = {};
  var streamAbort = null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  var css = el("link");
  css.rel = "stylesheet";
  css.href = base + "/widget.css";
  document.head.appendChild(css);

  var root = el("div", "tandem-widget");
  var panel = el("section", "tw-panel");
  panel.hidden = true;
  panel.id = "tandem-panel";
  panel.setAttribute("aria-label", T.title);
  var head = el("div", "tw-head");
  var h = el("h2", null, T.title);
  var close = el("button", "tw-close", "×");
  close.type = "button";
  close.setAttribute("aria-label", T.close);
  head.appendChild(h);
  head.appendChild(close);
  // A list whose additions are announced (a role of "log" would take the list role its items need).
  var log = el("ol", "tw-log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-label", T.title);
  var status = el("p", "tw-status");
  status.setAttribute("role", "status");
  var rate = el("div", "tw-rate");
  rate.hidden = true;
  var typingNote = el("p", "tw-typing");
  typingNote.setAttribute("aria-live", "polite");
  var typingTimer = null;
  function showTyping() {
    typingNote.textContent = T.typing;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { typingNote.textContent = ""; }, 5000);
  }
  /* While the customer waits for a person: continue by e-mail (the answer arrives by mail,
   * threaded like any other, even when this tab is closed). */
  var mailForm = el("form", "tw-mail");
  mailForm.hidden = true;
  var mailLabel = el("label", "tw-mail-label", T.byMail);
  mailLabel.htmlFor = "tandem-mail";
  var mailInput = el("input");
  mailInput.id = "tandem-mail";
  mailInput.type = "email";
  mailInput.name = "email";
  mailInput.required = true;
  mailInput.maxLength = 254;
  mailInput.autocomplete = "email";
  var mailButton = el("button", "tw-send", T.mailSend);
  mailButton.type = "submit";
  mailForm.appendChild(mailLabel);
  mailForm.appendChild(mailInput);
  mailForm.appendChild(mailButton);
  var form = el("form");
  var label = el("label", "tw-label", T.label);
  label.htmlFor = "tandem-input";
  var input = el("textarea");
  input.id = "tandem-input";
  input.name = "text";
  input.rows = 1;
  input.maxLength = 10000;
  input.placeholder = T.placeholder;
  var send = el("button", "tw-send", T.send);
  send.type = "submit";
  form.appendChild(label);
  form.appendChild(input);
  form.appendChild(send);
  panel.appendChild(head);
  panel.appendChild(log);
  panel.appendChild(status);
  panel.appendChild(typingNote);
  panel.appendChild(rate);
  panel.appendChild(mailForm);
  panel.appendChild(form);
  var launcher = el("button", "tw-launcher", T.open);
  launcher.type = "button";
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", "tandem-panel");
  root.appendChild(panel);
  root.appendChild(launcher);
  document.body.appendChild(root);

  function toggle(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    if (open) {
      if (!log.children.length && !conv) addMessage({ id: "welcome", author: "bot", text: T.welcome });
      input.focus();
    } else {
      launcher.focus();
    }
  }
  launcher.addEventListener("click", function () { toggle(panel.hidden); });
  close.addEventListener("click", function () { toggle(false); });
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") toggle(false); });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit")); }
  });

  function who(author) {
    return author === "customer" ? T.you : author === "bot" ? T.bot : author === "agent" ? T.agent : "";
  }

  function addMessage(m) {
    if (m.id != null && seen[m.id]) return;
    if (m.id != null) seen[m.id] = true;
    var li = el("li", "tw-msg " + m.author);
    li.setAttribute("data-author", m.author);
    if (who(m.author)) li.appendChild(el("span", "tw-who", who(m.author)));
    li.appendChild(document.createTextNode(m.text));
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
  }

  /* The queue position and expected wait: read with the conversation, refreshed while queued. */
  var queueTimer = null;
  function queueText(q) {
    if (!q) return T.soon;
    var text = T.place + q.position;
    if (q.expected_wait_secs == null) return text + T.nobody;
    return text + T.wait + Math.max(1, Math.round(q.expected_wait_secs / 60)) + T.minutes;
  }
  function refreshQueue() {
    if (!conv) return;
    api("GET", "/api/v1/conversations/" + conv.id).then(function (c) {
      if (c) showState(c);
    }).catch(function () {});
  }

  function showState(s) {
    rate.hidden = true;
    if (conv && s.channel === "email") conv.email = true;
    mailForm.hidden = !(s.state === "queued" && conv && !conv.email);
    if (s.state === "queued") {
      status.textContent = T.queued + queueText(s.queue);
      if (s.queue === undefined) refreshQueue();
      if (!queueTimer) queueTimer = setInterval(refreshQueue, 20000);
      return;
    }
    if (queueTimer) { clearInterval(queueTimer); queueTimer = null; }
    if (s.state === "assigned" && s.assignee) status.textContent = T.assigned + s.assignee.name;
    else if (s.state === "resolved") { status.textContent = ""; showRating(); }
    else status.textContent = "";
  }

  function showRating() {
    rate.textContent = "";
    rate.appendChild(el("span", null, T.resolved));
    [1, 2, 3, 4, 5].forEach(function (n) {
      var b = el("button", null, String(n));
      b.type = "button";
      b.setAttribute("aria-label", n + T.stars);
      b.addEventListener("click", function () {
        api("POST", "/api/v1/conversations/" + conv.id + "/rating", { score: n }).then(function () {
          rate.textContent = T.thanks;
        });
      });
      rate.appendChild(b);
    });
    rate.hidden = false;
  }

  function api(method, path, body) {
    var headers = { "Content-Type": "application/json" };
    if (conv) headers.Authorization = "Bearer " + conv.token;
    return fetch(base + path, { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined })
      .then(function (r) {
        if (r.status === 204) return null;
        return r.json().then(function (j) { if (!r.ok) throw j; return j; });
      });
  }

  function load() {
    return api("GET", "/api/v1/conversations/" + conv.id).then(function (c) {
      c.messages.forEach(addMessage);
      showState(c);
    }).catch(function (e) {
      if (e && e.error && (e.error.code === "not_found" || e.error.code === "unauthorized")) {
        conv = null;
        localStorage.removeItem(KEY);
      }
    });
  }

  /* SSE over fetch: parse "event:" / "data:" frames; reconnect with backoff. */
  function stream(delay) {
    if (!conv) return;
    if (streamAbort) streamAbort.abort();
    var ctrl = new AbortController();
    streamAbort = ctrl;
    var id = conv.id;
    fetch(base + "/api/v1/conversations/" + id + "/events", {
      headers: { Authorization: "Bearer " + conv.token, Accept: "text/event-stream" },
      signal: ctrl.signal,
    }).then(function (r) {
      if (!r.ok || !r.body) throw new Error("stream " + r.status);
      var reader = r.body.getReader();
      var dec = new TextDecoder();
      var buf = "";
      delay = 500;
      load();
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) throw new Error("closed");
          buf += dec.decode(chunk.value, { stream: true });
          var parts = buf.split("\n\n");
          buf = parts.pop();
          parts.forEach(function (frame) {
            var ev = "message", data = "";
            frame.split("\n").forEach(function (line) {
              if (line.indexOf("event:") === 0) ev = line.slice(6).trim();
              else if (line.indexOf("data:") === 0) data += line.slice(5).trim();
            });
            if (!data) return;
            try {
              var obj = JSON.parse(data);
              if (ev === "message") { addMessage(obj); if (obj.author === "agent") typingNote.textContent = ""; }
              else if (ev === "state") showState(obj);
              else if (ev === "typing") showTyping();
            } catch (e) { /* ignore a malformed frame */ }
          });
          return pump();
        });
      }
      return pump();
    }).catch(function () {
      if (ctrl.signal.aborted || !conv || conv.id !== id) return;
      setTimeout(function () { stream(Math.min((delay || 500) * 2, 15000)); }, delay || 500);
    });
  }

  mailForm.addEventListener("submit", function (e) {
    e.preventDefault();
    if (!conv) return;
    mailButton.disabled = true;
    api("POST", "/api/v1/conversations/" + conv.id + "/email", { email: mailInput.value.trim() }).then(function () {
      conv.email = true;
      localStorage.setItem(KEY, JSON.stringify(conv));
      mailForm.hidden = true;
      load();
    }).catch(function () {
      status.textContent = T.mailBad;
    }).then(function () {
      mailButton.disabled = false;
    });
  });

  /* Tell the agent that the customer is typing: at most every 3 s. */
  var typingSent = 0;
  input.addEventListener("input", function () {
    if (!conv || Date.now() - typingSent < 3000) return;
    typingSent = Date.now();
    api("POST", "/api/v1/conversations/" + conv.id + "/typing").catch(function () {});
  });

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    send.disabled = true;
    var done = conv
      ? api("POST", "/api/v1/conversations/" + conv.id + "/messages", { text: text })
      : api("POST", "/api/v1/conversations", { locale: locale, text: text }).then(function (c) {
          conv = { id: c.id, token: c.token };
          localStorage.setItem(KEY, JSON.stringify(conv));
          stream(500);
          return c;
        });
    done.then(function (r) {
      input.value = "";
      status.textContent = "";
      r.messages.forEach(addMessage);
      showState(r);
    }).catch(function () {
      status.textContent = T.failed;
    }).then(function () {
      send.disabled = false;
      input.focus();
    });
  });

  if (conv) {
    load().then(function () { if (conv) { stream(500); } });
  }
  root.setAttribute("data-ready", "true");
})();
