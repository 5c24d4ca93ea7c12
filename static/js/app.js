// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // With DEBUG on, {% htmx_script %} adds django-htmx's debug helper, which replaces the whole
  // page with any 400 answer to an htmx request. Ours are filter errors meant to be swapped into
  // place (htmx-config in base.html), so that event stops here, before the helper's listener on
  // document; htmx itself goes on as usual (it reads the event's result, not its propagation).
  window.addEventListener("htmx:beforeOnLoad", function (event) {
    if (event.detail && event.detail.xhr && event.detail.xhr.status === 400) { event.stopPropagation(); }
  }, true);

  function announce(text) {
    var status = document.getElementById("copy-status");
    if (status) { status.textContent = ""; window.setTimeout(function () { status.textContent = text; }, 50); }
  }

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  // Copy buttons: <button class="copy" data-copy="text">. Delegated, so swapped-in rows work too.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) { return; }
    var text = button.getAttribute("data-copy");
    var copy = navigator.clipboard && window.isSecureContext
      ? navigator.clipboard.writeText(text)
      : fallbackCopy(text);
    var label = button.textContent;
    copy.then(function () {
      button.textContent = "Copied";
      button.classList.add("copied");
      announce("Copied to the clipboard");
    }, function () {
      button.textContent = "Copy failed";
      announce("Could not copy; select the text and copy it by hand");
    }).then(function () {
      window.setTimeout(function () { button.textContent = label; button.classList.remove("copied"); }, 1600);
    });
  });

  // Forms marked data-disable-on-submit disable their submit button once sent (no double submit).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-disable-on-submit")) { return; }
    var button = form.querySelector("[type=submit]");
    if (button) { window.setTimeout(function () { button.disabled = true; }, 0); }
  });

  // A chart wider than its scroll area opens at its last day (today), on load and after a swap.
  function scrollChartsToEnd() {
    document.querySelectorAll("[data-scroll-end]").forEach(function (area) {
      area.scrollLeft = area.scrollWidth;
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", scrollChartsToEnd);
  } else {
    scrollChartsToEnd();
  }
  document.addEventListener("htmx:afterSettle", scrollChartsToEnd);

  // Read-only link fields select their whole text on focus, ready to copy by hand.
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("input[readonly]")) { event.target.select(); }
  });

  // Live updates: one poller per page ([data-live-poll]). Hold its request back while the tab
  // is hidden, and on the list while no row on the page can still change (no `v` input left).
  // (htmx's `every 5s [filter]` would need eval, which the Content-Security-Policy forbids.)
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail && event.detail.elt;
    if (!elt || !elt.hasAttribute || !elt.hasAttribute("data-live-poll")) { return; }
    if (document.visibilityState !== "visible") { event.preventDefault(); return; }
    if (elt.tagName === "FORM" && elt.elements.length === 0) { event.preventDefault(); }
  });

  // Back/Forward on a page htmx does not snapshot (hx-history="false") asks the server for the
  // page of that URL. Pressed twice quickly, an earlier answer could land last and show rows and
  // controls of a URL no longer shown: only the latest of these requests may answer.
  var historyRequest = null;
  document.addEventListener("htmx:historyCacheMiss", function (event) {
    if (historyRequest && historyRequest !== event.detail.xhr) { historyRequest.abort(); }
    historyRequest = event.detail.xhr;
  });

  // On a phone the list's filters fold behind their summary (without JavaScript they stay open).
  var phone = window.matchMedia ? window.matchMedia("(max-width: 720px)") : null;
  function foldFilters() {
    if (!phone || !phone.matches) { return; }
    var toggles = document.querySelectorAll("details[data-fold-on-phone]");
    for (var i = 0; i < toggles.length; i++) { toggles[i].open = false; }
  }
  foldFilters();
  // Grown from a phone to a wide screen: the summary is hidden there, so open them again.
  if (phone && phone.addEventListener) {
    phone.addEventListener("change", function (event) {
      if (event.matches) { return; }
      var toggles = document.querySelectorAll("details[data-fold-on-phone]");
      for (var i = 0; i < toggles.length; i++) { toggles[i].open = true; }
    });
  }
  // Back/Forward may bring the page back from the server: fold it again.
  document.addEventListener("htmx:historyRestore", foldFilters);
})();

// Forms (h-forms): after a failed submit the error summary takes focus (autofocus does it on a
// full page load, also without this file; this does it for content htmx swapped in), and its
// links move focus to their field rather than only scrolling to it.
(function () {
  "use strict";
  function focusSummary(root) {
    var summary = root.querySelector && root.querySelector("[data-error-summary]");
    if (summary) { summary.focus(); }
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (!document.activeElement || document.activeElement === document.body) { focusSummary(document); }
  });
  document.addEventListener("htmx:afterSwap", function (event) { focusSummary(event.detail.elt || document); });
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-focus-field]");
    if (!link) { return; }
    var field = document.getElementById(link.getAttribute("data-focus-field"));
    if (field) { event.preventDefault(); field.focus(); field.scrollIntoView({ block: "center" }); }
  });

  // Character counters: the visible count follows each keystroke; the polite live region is
  // written only once typing pauses, so a screen reader is not interrupted on every key.
  var timers = {};
  function count(input, announce) {
    var shown = document.querySelector('[data-count-for="' + input.id + '"]');
    if (!shown) { return; }
    var max = parseInt(shown.getAttribute("data-max"), 10);
    var left = max - input.value.length;
    var text = left > 0 ? left + (left === 1 ? " character" : " characters") + " left of " + max
      : "No characters left: " + max + " is the most";
    shown.textContent = text;
    var status = document.querySelector('[data-count-status-for="' + input.id + '"]');
    window.clearTimeout(timers[input.id]);
    if (status && announce) { timers[input.id] = window.setTimeout(function () { status.textContent = text; }, 1000); }
  }
  document.addEventListener("input", function (event) {
    if (event.target.id) { count(event.target, true); }
  });
  document.addEventListener("DOMContentLoaded", function () {
    var counters = document.querySelectorAll("[data-count-for]");
    for (var i = 0; i < counters.length; i++) {
      var input = document.getElementById(counters[i].getAttribute("data-count-for"));
      if (input) { count(input, false); }
    }
  });
})();
