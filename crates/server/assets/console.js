/* Tandem console: live inbox and transcript over SSE (the session cookie authenticates),
 * replies sent with the CSRF header. Every text goes through textContent. */
(function () {
  "use strict";
  var main = document.getElementById("main");
  if (!main) return;
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var live = document.getElementById("live-status");
  var de = document.documentElement.lang === "de";
  var labels = { customer: de ? "Kunde" : "Customer", bot: "Bot", agent: de ? "Mitarbeiter" : "Agent", system: "System", note: de ? "Interne Notiz" : "Internal note" };
  /* The same words as the server's state_label (pages/layout.rs). */
  var states = de
    ? { bot: "beim Bot", queued: "wartet", assigned: "zugewiesen", resolved: "erledigt" }
    : { bot: "with the bot", queued: "waiting", assigned: "assigned", resolved: "resolved" };

  function say(text) { if (live) live.textContent = text; }

  /* The inbox filter: hides the listed items whose text does not hold what was typed (applied
   * again after every live refresh); Enter submits its form, the server-side search. */
  var filter = document.getElementById("inbox-filter");
  function applyFilter() {
    if (!filter) return;
    var q = filter.value.trim().toLowerCase();
    Array.prototype.forEach.call(document.querySelectorAll("#main .inbox > li"), function (li) {
      li.hidden = q !== "" && li.textContent.toLowerCase().indexOf(q) < 0;
    });
  }
  if (filter) filter.addEventListener("input", applyFilter);

  /* Suggestions in the context pane go into the reply with one click. */
  Array.prototype.forEach.call(document.querySelectorAll("button.insert[data-text]"), function (b) {
    var box = document.getElementById("reply-text");
    if (!box) return;
    b.hidden = false;
    b.addEventListener("click", function () {
      var text = b.getAttribute("data-text");
      box.value = box.value ? box.value + "\n" + text : text;
      box.focus();
      say(de ? "In die Antwort übernommen." : "Inserted into the reply.");
    });
  });

  /* The live inbox: on its own page, and in the conversation page's left pane. */
  if (document.getElementById("mine")) {
    var onInbox = main.getAttribute("data-page") === "inbox";
    var inboxUrl = onInbox ? location.pathname + location.search : "/console?lang=" + document.documentElement.lang;
    var es = new EventSource("/api/v1/agent/events");
    var reloading = false, again = false;
    function refresh() {
      // An event during a refresh must not be lost (a handoff sends "queued" then "assigned"
      // in quick succession): note it and refresh once more when the current one is done.
      if (reloading) { again = true; return; }
      reloading = true;
      again = false;
      // The server renders the inbox; swap in its fresh lists.
      fetch(inboxUrl, { credentials: "same-origin" })
        .then(function (r) { return r.text(); })
        .then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          // Swap each whole section (heading with its count, the "empty" note and the list).
          var changed = false;
          ["mine", "queue"].forEach(function (id) {
            var fresh = doc.getElementById(id), old = document.getElementById(id);
            var freshSec = fresh && fresh.closest("section"), oldSec = old && old.closest("section");
            if (!freshSec || !oldSec || freshSec.outerHTML === oldSec.outerHTML) return;
            oldSec.replaceWith(document.importNode(freshSec, true));
            changed = true;
          });
          if (changed) {
            // The inbox page marks no conversation; the pane marks the one open here, and what
            // is on screen is read (the server hears it from markRead below).
            Array.prototype.forEach.call(document.querySelectorAll('.pane-inbox a[href="' + location.pathname + '"]'), function (a) {
              a.setAttribute("aria-current", "page");
              if (document.visibilityState !== "visible") return;
              var li = a.closest("li"), badge = li && li.querySelector(".unread");
              if (badge) badge.remove();
              if (li) li.classList.remove("unread-item");
            });
            applyFilter();
            // Beside a conversation the pane updates quietly: the status line is the conversation's.
            if (onInbox) say(de ? "Posteingang aktualisiert." : "Inbox updated.");
          }
        })
        .catch(function () { if (onInbox) say(de ? "Posteingang konnte nicht aktualisiert werden." : "Could not update the inbox."); })
        .finally(function () { reloading = false; if (again) refresh(); });
    }
    // On (re)connecting, catch up on what happened since the page was rendered or the stream dropped.
    es.addEventListener("open", refresh);
    es.addEventListener("inbox", refresh);
    es.addEventListener("message", refresh);
  }

  /* Being told: a conversation assigned to me, or a customer message in one of mine, gives a
   * desktop notification (once the agent allowed them), an optional sound, and the unread count
   * in the tab's title while the console is not in view. */
  (function () {
    var button = document.getElementById("alerts");
    var sound = document.getElementById("alert-sound");
    var soundLabel = document.getElementById("alert-sound-label");
    var baseTitle = document.title;
    var unread = 0;
    if (button && "Notification" in window) {
      var sync = function () {
        var granted = Notification.permission === "granted";
        button.textContent = granted ? (de ? "Benachrichtigungen an" : "Notifications on") : (de ? "Benachrichtigungen erlauben" : "Allow notifications");
        button.disabled = Notification.permission !== "default";
      };
      button.hidden = false;
      sync();
      button.addEventListener("click", function () { Notification.requestPermission().then(sync); });
    }
    if (sound && soundLabel) {
      soundLabel.hidden = false;
      sound.checked = localStorage.getItem("tandem.sound") === "on";
      sound.addEventListener("change", function () { localStorage.setItem("tandem.sound", sound.checked ? "on" : "off"); });
    }
    function beep() {
      try {
        var ctx = new (window.AudioContext || window.webkitAudioContext)();
        var o = ctx.createOscillator(), g = ctx.createGain();
        o.frequency.value = 880;
        g.gain.value = 0.05;
        o.connect(g);
        g.connect(ctx.destination);
        o.start();
        o.stop(ctx.currentTime + 0.15);
      } catch (e) { /* no audio: the other signals remain */ }
    }
    function tell(text) {
      if (document.hidden || !document.hasFocus()) {
        unread += 1;
        document.title = "(" + unread + ") " + baseTitle;
      }
      if ("Notification" in window && Notification.permission === "granted") {
        try { new Notification("Tandem", { body: text, tag: "tandem-" + Date.now() }); } catch (e) { /* not shown */ }
      }
      if (sound && sound.checked) beep();
    }
    function seenAll() { unread = 0; document.title = baseTitle; }
    document.addEventListener("visibilitychange", function () { if (!document.hidden) seenAll(); });
    window.addEventListener("focus", seenAll);
    var alerts = new EventSource("/api/v1/agent/events");
    alerts.addEventListener("inbox", function (e) {
      try {
        var s = JSON.parse(e.data);
        if (s.state === "assigned") tell(de ? "Neues Gespräch für Sie." : "A new conversation for you.");
      } catch (x) { /* a malformed event */ }
    });
    alerts.addEventListener("message", function (e) {
      try {
        var d = JSON.parse(e.data);
        if (d.message && d.message.author === "customer") tell(de ? "Neue Nachricht vom Kunden." : "New message from the customer.");
      } catch (x) { /* a malformed event */ }
    });
  })();

  /* Keyboard shortcuts (listed by "?"), outside text fields only. */
  (function () {
    var dialog = document.getElementById("shortcuts");
    function typing(el) {
      return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
    }
    function conversations() {
      return Array.prototype.slice.call(document.querySelectorAll("#mine a, #queue a"));
    }
    function go(step) {
      var links = conversations();
      if (links.length) {
        var at = links.indexOf(document.activeElement);
        var next = links[Math.max(0, Math.min(links.length - 1, at < 0 ? 0 : at + step))];
        next.focus();
        return;
      }
      // On a conversation: the next or previous of my conversations, in the inbox's order.
      var current = main.getAttribute("data-conversation");
      fetch("/api/v1/agent/conversations", { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (w) {
          if (!w) return;
          var ids = (w.conversations || []).concat(w.queue || []).map(function (c) { return c.id; });
          var i = ids.indexOf(current);
          var target = ids[i < 0 ? 0 : i + step];
          if (target) location.href = "/console/c/" + encodeURIComponent(target);
        })
        .catch(function () {});
    }
    function submit(action) {
      var f = document.querySelector('form[action$="/' + action + '"]');
      if (f) f.requestSubmit();
    }
    function focus(id) { var el = document.getElementById(id); if (el) el.focus(); }
    document.addEventListener("keydown", function (e) {
      if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
      var actions = {
        "?": function () { if (dialog && !dialog.open) dialog.showModal(); },
        j: function () { go(1); },
        k: function () { go(-1); },
        r: function () { focus("reply-text"); },
        n: function () { focus("note-text"); },
        e: function () { submit("resolve"); },
        b: function () { submit("handback"); },
        t: function () { focus("transfer-agent"); },
      };
      var act = actions[e.key];
      if (!act) return;
      e.preventDefault();
      act();
    });
  })();

  /* Canned responses: "/" in an empty reply box moves to the picker; Enter or the button inserts
   * the chosen text (its variables already filled in by the server) and returns to the box. */
  var cannedBox = document.getElementById("canned-box");
  var reply = document.getElementById("reply-text");
  if (cannedBox && reply) {
    var picker = document.getElementById("canned");
    cannedBox.hidden = false;
    function insert() {
      var text = picker.value;
      if (!text) return;
      reply.value = reply.value ? reply.value + "\n" + text : text;
      reply.focus();
      say(de ? "Textbaustein eingefügt." : "Canned response inserted.");
    }
    reply.addEventListener("keydown", function (e) {
      if (e.key === "/" && reply.value === "") { e.preventDefault(); picker.focus(); }
    });
    picker.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { e.preventDefault(); insert(); }
      if (e.key === "Escape") { e.preventDefault(); reply.focus(); }
    });
    document.getElementById("canned-insert").addEventListener("click", insert);
  }

  if (main.getAttribute("data-page") === "conversation") {
    var id = main.getAttribute("data-conversation");
    var list = document.getElementById("transcript");
    var seen = {};
    Array.prototype.forEach.call(list.querySelectorAll("li[data-id]"), function (li) { seen[li.getAttribute("data-id")] = true; });
    /* Shows a message once; says whether it was new. */
    function add(m) {
      if (seen[m.id]) return false;
      seen[m.id] = true;
      var li = document.createElement("li");
      li.className = "msg " + m.author;
      li.setAttribute("data-id", m.id);
      var who = document.createElement("span");
      who.className = "author";
      who.textContent = labels[m.author] || m.author;
      var p = document.createElement("p");
      p.className = "text";
      p.textContent = m.text;
      li.appendChild(who);
      li.appendChild(p);
      list.appendChild(li);
      if (m.author === "customer") say(de ? "Neue Nachricht vom Kunden." : "New message from the customer.");
      return true;
    }
    function showState(s) {
      var st = document.getElementById("conv-state");
      if (st && s && s.state) st.textContent = states[s.state] || s.state;
    }
    var typingNote = document.getElementById("typing");
    var typingTimer = null;
    var es2 = new EventSource("/api/v1/conversations/" + encodeURIComponent(id) + "/events");
    es2.addEventListener("typing", function () {
      if (!typingNote) return;
      typingNote.textContent = de ? "Kunde schreibt …" : "The customer is typing …";
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { typingNote.textContent = ""; }, 5000);
    });
    /* What arrives while the conversation is on screen is read; what arrived while the tab was
     * hidden is read when the agent comes back to it. */
    var unseen = false;
    function markRead() {
      unseen = false;
      fetch("/api/v1/conversations/" + encodeURIComponent(id) + "/read", {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf },
      }).catch(function () {});
    }
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible" && unseen) markRead();
    });
    es2.addEventListener("message", function (e) {
      // The agent's own reply was shown from the POST's answer already: nothing new to read.
      try { if (!add(JSON.parse(e.data))) return; } catch (x) { return; }
      if (document.visibilityState === "visible") markRead(); else unseen = true;
    });
    es2.addEventListener("state", function (e) { try { showState(JSON.parse(e.data)); } catch (x) {} });
    // On (re)connecting, catch up on what was said since the page was rendered or the stream dropped.
    es2.addEventListener("open", function () {
      fetch("/api/v1/conversations/" + encodeURIComponent(id), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (c) { if (c) { (c.messages || []).forEach(add); showState(c); } })
        .catch(function () {});
    });
    var form = document.getElementById("reply");
    if (form) {
      var text = document.getElementById("reply-text");
      text.addEventListener("keydown", function (e) {
        if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
      });
      // Tell the customer that an agent is typing: at most every 3 s.
      var typingSent = 0;
      text.addEventListener("input", function () {
        if (Date.now() - typingSent < 3000) return;
        typingSent = Date.now();
        fetch("/api/v1/conversations/" + encodeURIComponent(id) + "/typing", {
          method: "POST",
          credentials: "same-origin",
          headers: { "X-CSRF-Token": csrf },
        }).catch(function () {});
      });
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        var value = text.value.trim();
        if (!value) return;
        fetch("/api/v1/conversations/" + encodeURIComponent(id) + "/messages", {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
          body: JSON.stringify({ text: value }),
        }).then(function (r) {
          return r.json().then(function (j) {
            if (!r.ok) throw j;
            j.messages.forEach(add);
            text.value = "";
            say(de ? "Gesendet." : "Sent.");
          });
        }).catch(function (err) {
          say((de ? "Senden fehlgeschlagen: " : "Sending failed: ") + (err && err.error ? err.error.message : ""));
        });
      });
    }
  }

  /* The playbook editor's "try it" box (/admin/playbook): the live machine tier's decision as
   * the admin types, through POST /api/v1/triage; without JavaScript the form submits. */
  var tryText = document.getElementById("try-text");
  var tryResult = document.getElementById("try-result");
  if (tryText && tryResult) {
    var tryTimer = null;
    var actions = de
      ? { answer: "Antwortet", clarify: "Fragt nach", handoff: "Übergibt an einen Menschen" }
      : { answer: "Answers", clarify: "Asks back", handoff: "Hands off to a person" };
    var showTriage = function (t) {
      tryResult.textContent = "";
      var p = document.createElement("p");
      var strong = document.createElement("strong");
      strong.textContent = actions[t.action] || t.action;
      p.appendChild(strong);
      if (t.intent) {
        p.appendChild(document.createTextNode(" · "));
        var code = document.createElement("code");
        code.textContent = t.intent;
        p.appendChild(code);
      }
      p.appendChild(document.createTextNode(" · " + (de ? "Sicherheit " : "confidence ") + t.confidence.toFixed(2)));
      tryResult.appendChild(p);
      if (t.candidates && t.candidates.length) {
        var ol = document.createElement("ol");
        ol.className = "candidates";
        ol.setAttribute("aria-label", de ? "Beste Kandidaten" : "Best candidates");
        t.candidates.forEach(function (c) {
          var li = document.createElement("li");
          var code = document.createElement("code");
          code.textContent = c.intent;
          li.appendChild(code);
          li.appendChild(document.createTextNode(" " + c.confidence.toFixed(2)));
          ol.appendChild(li);
        });
        tryResult.appendChild(ol);
      }
      if (t.reasons && t.reasons.length) {
        var r = document.createElement("p");
        r.textContent = (de ? "Gründe: " : "Reasons: ") + t.reasons.join(", ");
        tryResult.appendChild(r);
      }
    };
    tryText.addEventListener("input", function () {
      clearTimeout(tryTimer);
      var value = tryText.value.trim();
      if (!value) { tryResult.textContent = ""; return; }
      tryTimer = setTimeout(function () {
        fetch("/api/v1/triage", {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
          body: JSON.stringify({ text: value }),
        }).then(function (r) { return r.ok ? r.json() : null; })
          .then(function (t) { if (t && tryText.value.trim() === value) showTriage(t); })
          .catch(function () {});
      }, 250);
    });
  }
})();
