// Live updates of the portal's desk and case pages (issue 9); no library, no build step.
//
// The page works without this script: it only saves a reload. On a case page (/portal/cases/<id>)
// and on a desk, it listens to the session's event stream (/portal/events) and, when a case the page
// shows changes, fetches the same page again and swaps its <main> for the new one (only if it
// differs). While the person is typing in a form of the page or has the keyboard focus in it, nothing
// is swapped: a notice with a reload link appears instead, so no typed text and no focus is lost. Texts come from the script tag's data-*
// attributes, in the page's language. <html data-live="on"> tells that the stream is open.
(function () {
  "use strict";
  var script = document.currentScript;
  var path = window.location.pathname;
  var onCase = path.match(/^\/portal\/cases\/([0-9a-f]{64})$/);
  var onDesk = /^\/portal\/(bank|owner|registry|court|regulator|cases)$/.test(path);
  if (!script || !window.EventSource || !window.fetch || !window.DOMParser || !(onCase || onDesk)) {
    return;
  }
  var texts = script.dataset;
  var edited = false;
  var pending = null;
  var quiet = null;
  var status = document.createElement("p");
  status.className = "live-status";
  status.setAttribute("role", "status");
  document.body.insertBefore(status, document.querySelector("main"));

  document.addEventListener("input", function (event) {
    var main = document.querySelector("main");
    if (main && main.contains(event.target)) {
      edited = true;
    }
  });

  // Busy: something was typed, or the keyboard focus is inside <main> (swapping it would lose the focus).
  function busy() {
    var active = document.activeElement;
    var main = document.querySelector("main");
    return edited || Boolean(main && active && active !== main && main.contains(active));
  }

  function offerReload() {
    var main = document.querySelector("main");
    if (!main || main.querySelector(".live-changed")) {
      return;
    }
    var notice = document.createElement("p");
    notice.className = "notice warn live-changed";
    notice.appendChild(document.createTextNode((texts.changed || "") + " "));
    var link = document.createElement("a");
    link.href = window.location.href;
    link.textContent = texts.reload || "";
    notice.appendChild(link);
    main.insertBefore(notice, main.firstChild);
    status.textContent = texts.changed || "";
  }

  function refresh() {
    pending = null;
    if (busy()) {
      offerReload();
      return;
    }
    window.fetch(window.location.href, {credentials: "same-origin", cache: "no-store"}).then(function (response) {
      if (!response.ok || new URL(response.url).pathname !== path) {
        return null;  // signed out, gone or refused: leave the page as it is
      }
      return response.text();
    }).then(function (html) {
      if (html === null) {
        return;
      }
      var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("main");
      var main = document.querySelector("main");
      if (!fresh || !main || fresh.innerHTML === main.innerHTML) {
        return;
      }
      if (busy()) {
        offerReload();
        return;
      }
      main.replaceWith(document.importNode(fresh, true));
      status.textContent = texts.updated || "";
      window.clearTimeout(quiet);
      quiet = window.setTimeout(function () { status.textContent = ""; }, 20000);
    }).catch(function () {
      offerReload();
    });
  }

  function later() {
    if (pending === null) {
      pending = window.setTimeout(refresh, 150);  // one fetch for the several changes of one block
    }
  }

  var source = new window.EventSource(texts.stream || "/portal/events");
  source.addEventListener("open", function () {
    document.documentElement.dataset.live = "on";
  });
  source.addEventListener("case", function (message) {
    var change = JSON.parse(message.data);
    document.documentElement.dataset.liveLast = message.lastEventId;
    if (!onCase || change.case === onCase[1]) {
      later();
    }
  });
  source.addEventListener("reload", later);
  source.addEventListener("end", function () {
    source.close();
    document.documentElement.dataset.live = "off";
  });
  source.addEventListener("error", function () {
    if (source.readyState === window.EventSource.CLOSED) {
      document.documentElement.dataset.live = "off";
    }
  });
}());
