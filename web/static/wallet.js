// Live updates for the wallet pages. The page is complete without this
// script; with it, the page follows the holder's changes:
//  - on the first page of both tabs (and on a detail page) every change
//    event re-reads this same page and swaps in its <main>, so changed
//    passes appear at the top of their tabs, newest change first;
//  - on a later page of a tab (the page has data-paged), the changed passes
//    shown in that tab are re-read by id (?pass=…) and replaced in place;
//    one that left the tab or the wallet is taken off the page. A tab that
//    is on its first page is read again whole. Changed passes that are then
//    not on the page are counted in a notice linking to the first page,
//    where they are, newest change first. The tab counts follow.
// No merchant value is ever handled as anything but server-rendered, escaped
// HTML.
(function () {
  "use strict";
  var body = document.body;
  var url = body && body.getAttribute("data-events");
  if (!url || !window.EventSource || !window.fetch || !window.DOMParser) return;
  var busy = false, again = false;
  var pending = {}; // ids of shown passes to re-read (later pages)
  var unseen = {};  // ids of changed passes not on this page
  var gone = {};    // ids the feed said left the wallet

  function live(on) {
    var el = document.querySelector("[data-live]");
    if (el) el.hidden = !on;
  }

  function load(href) {
    return fetch(href, { cache: "no-store", credentials: "same-origin" })
      .then(function (r) { return r.ok || r.status === 410 ? r.text() : null; })
      .then(function (html) { return html === null ? null : new DOMParser().parseFromString(html, "text/html"); });
  }

  function pairs(href) {
    var c = href ? new URL(href, location.href).searchParams.get("c") : "";
    return c ? c.split(".") : [];
  }

  // theme makes the colour classes of doc's passes available: drop replaces
  // the page's theme stylesheets with doc's; otherwise only the colour pairs
  // not defined yet are added, so a long-open page does not pile up links.
  function theme(doc, drop) {
    var link = doc.querySelector("link[data-theme]");
    var olds = document.querySelectorAll("link[data-theme]"), have = {};
    for (var i = 0; i < olds.length; i++) pairs(olds[i].getAttribute("href")).forEach(function (p) { have[p] = true; });
    var want = link ? pairs(link.getAttribute("href")) : [];
    var missing = want.filter(function (p) { return !have[p]; });
    if (!missing.length && !drop) return;
    if (drop && olds.length === 1 && link && olds[0].getAttribute("href") === link.getAttribute("href")) return;
    if (drop ? want.length : missing.length) {
      var el = document.createElement("link");
      el.rel = "stylesheet";
      el.setAttribute("data-theme", "");
      el.href = "/static/wallet/theme.css?c=" + (drop ? want : missing).join(".");
      document.head.appendChild(el);
    }
    if (drop) for (var j = 0; j < olds.length; j++) olds[j].remove();
  }

  function passIn(root, id) {
    var all = root.querySelectorAll("[data-pass-id]");
    for (var i = 0; i < all.length; i++) if (all[i].getAttribute("data-pass-id") === id) return all[i];
    return null;
  }

  function tabOf(el) {
    var t = el.closest("[data-tab]");
    return t ? t.getAttribute("data-tab") : "";
  }

  function reload() {
    return load(location.href).then(function (doc) {
      if (!doc) return;
      var next = doc.querySelector("main"), cur = document.querySelector("main");
      if (next && cur) cur.replaceWith(document.adoptNode(next));
      theme(doc, true);
    });
  }

  function paged(tab) {
    return tab && tab.getAttribute("data-tab-page") !== "1";
  }

  function patch() {
    // Only passes still shown in a tab past its first page: at most a page
    // of each tab, as the server allows.
    var ids = Object.keys(pending).filter(function (id) {
      var el = passIn(document, id);
      return el && paged(el.closest("[data-tab]"));
    });
    pending = {};
    // This page's tabs, and the passes to re-read in those past their first.
    var q = new URLSearchParams(location.search);
    q.delete("pass");
    ids.forEach(function (id) { q.append("pass", id); });
    if (!ids.length) q.append("pass", "");
    return load(location.pathname + "?" + q.toString()).then(function (doc) {
      if (!doc) return;
      ids.forEach(function (id) {
        var cur = passIn(document, id), next = passIn(doc, id);
        if (!cur || !paged(cur.closest("[data-tab]"))) return;
        if (next && tabOf(next) === tabOf(cur)) {
          cur.replaceWith(document.adoptNode(next));
          return;
        }
        var sec = cur.closest("[data-section]");
        cur.remove();
        if (sec && !sec.querySelector("[data-pass-id]")) sec.remove();
        unseen[id] = true; // in the other tab, or gone (then not counted below)
      });
      // A tab on its first page is read again whole, as on the first page.
      document.querySelectorAll("[data-tab]").forEach(function (tab) {
        var next = doc.querySelector('[data-tab="' + tab.getAttribute("data-tab") + '"]');
        if (!paged(tab) && next) tab.replaceWith(document.adoptNode(next));
      });
      ["active", "inactive"].forEach(function (tab) {
        var sel = '[data-count="' + tab + '"]', from = doc.querySelector(sel), to = document.querySelector(sel);
        if (from && to) to.textContent = from.textContent;
      });
      Object.keys(unseen).forEach(function (id) {
        if (passIn(document, id) || (gone[id] && !passIn(doc, id))) delete unseen[id];
      });
      var n = Object.keys(unseen).length, box = document.querySelector("[data-newer]");
      if (box) {
        box.querySelector("[data-newer-count]").textContent = String(n);
        box.hidden = n === 0;
      }
      theme(doc, false);
    });
  }

  // note records which passes an event changed; without readable event data
  // every pass shown is re-read.
  function note(data) {
    var ev = null;
    try { ev = JSON.parse(data); } catch (e) { ev = null; }
    var shown = document.querySelectorAll("[data-pass-id]");
    if (!ev || !Array.isArray(ev.passes) || !Array.isArray(ev.removed)) {
      for (var i = 0; i < shown.length; i++) pending[shown[i].getAttribute("data-pass-id")] = true;
      return;
    }
    ev.passes.forEach(function (p) {
      var id = p && String(p.passId);
      delete gone[id];
      if (passIn(document, id)) pending[id] = true;
      else unseen[id] = true;
    });
    ev.removed.forEach(function (id) {
      id = String(id);
      delete unseen[id];
      gone[id] = true;
      if (passIn(document, id)) pending[id] = true;
    });
  }

  function update() {
    if (busy) { again = true; return; }
    busy = true;
    (body.hasAttribute("data-paged") ? patch() : reload())
      .then(function () {
        live(true);
        document.dispatchEvent(new CustomEvent("wallet:updated"));
      })
      .catch(function () {})
      .then(function () {
        busy = false;
        if (again) { again = false; update(); }
      });
  }

  function changed(data) {
    if (body.hasAttribute("data-paged")) note(data);
    update();
  }

  // EventSource retries a dropped stream by itself, but gives up on an
  // answer that is not a stream (429 when the server's stream caps are
  // reached, 404 for a revoked link): then try again later, less and less
  // often, and re-read what is shown once back, since changes were missed.
  var delay = 5000, missed = false;
  function connect() {
    var es = new EventSource(url);
    es.onopen = function () {
      live(true);
      delay = 5000;
      if (missed) { missed = false; changed(null); }
    };
    es.onerror = function () {
      live(false);
      if (es.readyState === EventSource.CLOSED) {
        missed = true;
        setTimeout(connect, delay);
        delay = Math.min(delay * 2, 300000);
      }
    };
    es.onmessage = function (e) { changed(e.data); };
  }
  connect();
})();
