// Live updates for the wallet pages. The page is complete without this
// script; with it, every change event re-reads this same page from the
// server and swaps in its <main>. No merchant value is ever handled as
// anything but server-rendered, escaped HTML.
(function () {
  "use strict";
  var url = document.body && document.body.getAttribute("data-events");
  if (!url || !window.EventSource || !window.fetch || !window.DOMParser) return;
  var busy = false, again = false;

  function live(on) {
    var el = document.querySelector("[data-live]");
    if (el) el.hidden = !on;
  }

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(location.href, { cache: "no-store", credentials: "same-origin" })
      .then(function (r) { return r.ok || r.status === 410 ? r.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var next = doc.querySelector("main"), cur = document.querySelector("main");
        if (next && cur) cur.replaceWith(document.adoptNode(next));
        var theme = doc.querySelector("link[data-theme]"), old = document.querySelector("link[data-theme]");
        if (theme && (!old || old.getAttribute("href") !== theme.getAttribute("href"))) {
          var link = document.createElement("link");
          link.rel = "stylesheet";
          link.setAttribute("data-theme", "");
          link.href = theme.getAttribute("href");
          document.head.appendChild(link);
          if (old) old.remove();
        }
        live(true);
        document.dispatchEvent(new CustomEvent("wallet:updated"));
      })
      .catch(function () {})
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  // EventSource retries a dropped stream by itself, but gives up on an
  // answer that is not a stream (429 when the server's stream caps are
  // reached, 404 for a revoked link): then try again later, less and less
  // often, and refresh once back in case something changed meanwhile.
  var delay = 5000, missed = false;
  function connect() {
    var es = new EventSource(url);
    es.onopen = function () {
      live(true);
      delay = 5000;
      if (missed) { missed = false; refresh(); }
    };
    es.onerror = function () {
      live(false);
      if (es.readyState === EventSource.CLOSED) {
        missed = true;
        setTimeout(connect, delay);
        delay = Math.min(delay * 2, 300000);
      }
    };
    es.onmessage = refresh;
  }
  connect();
})();
