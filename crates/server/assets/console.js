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
  var labels = { customer: de ? "Kunde" : "Customer", bot: "Bot", agent: de ? "Mitarbeiter" : "Agent", system: "System" };

  function say(text) { if (live) live.textContent = text; }

  if (main.getAttribute("data-page") === "inbox") {
    var es = new EventSource("/api/v1/agent/events");
    var reloading = false;
    function refresh() {
      if (reloading) return;
      reloading = true;
      // The server renders the inbox; swap in its fresh lists.
      fetch(location.pathname + location.search, { credentials: "same-origin" })
        .then(function (r) { return r.text(); })
        .then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          ["mine", "queue"].forEach(function (id) {
            var fresh = doc.getElementById(id), old = document.getElementById(id);
            if (fresh && old) old.replaceWith(fresh);
            var freshSec = fresh && fresh.closest("section"), oldSec = document.getElementById(id) && document.getElementById(id).closest("section");
            if (freshSec && oldSec) oldSec.replaceWith(document.importNode(freshSec, true));
          });
          say(de ? "Posteingang aktualisiert." : "Inbox updated.");
        })
        .finally(function () { reloading = false; });
    }
    es.addEventListener("inbox", refresh);
    es.addEventListener("message", refresh);
  }

  if (main.getAttribute("data-page") === "conversation") {
    var id = main.getAttribute("data-conversation");
    var list = document.getElementById("transcript");
    var seen = {};
    Array.prototype.forEach.call(list.querySelectorAll("li[data-id]"), function (li) { seen[li.getAttribute("data-id")] = true; });
    function add(m) {
      if (seen[m.id]) return;
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
    }
    var es2 = new EventSource("/api/v1/conversations/" + encodeURIComponent(id) + "/events");
    es2.addEventListener("message", function (e) { try { add(JSON.parse(e.data)); } catch (x) {} });
    es2.addEventListener("state", function (e) {
      try {
        var s = JSON.parse(e.data);
        var st = document.getElementById("conv-state");
        if (st) st.textContent = s.state;
      } catch (x) {}
    });
    var form = document.getElementById("reply");
    if (form) {
      var text = document.getElementById("reply-text");
      text.addEventListener("keydown", function (e) {
        if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
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
})();
