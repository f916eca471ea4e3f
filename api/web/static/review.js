// parkplan candidate page: the decision submitted in place. The form is sent with fetch (the same fields, the same
// CSRF token and version) and a header asking for the decision card alone; the server answers with the card rendered
// by the same template as the page (escaped there), holding the saved state, the conflict or the error, and the new
// version and history. The card replaces the old one; the heading's status and version are set as text. Without
// JavaScript, or when the answer is not the card (a refused session, a network failure), the form posts as a page.
(function () {
  "use strict";
  var HEADER = "X-Parkplan-Fragment", KIND = "decision";

  function postAsPage(form) {
    HTMLFormElement.prototype.submit.call(form);  // no submit event: the plain POST and its 303
  }

  function mark(name) {
    if (window.performance && performance.mark) performance.mark(name);
  }

  function swap(html) {
    mark("parkplan-decision-answer");
    var doc = new DOMParser().parseFromString(html, "text/html");
    var card = doc.getElementById("decision-card");
    var old = document.getElementById("decision-card");
    if (!card || !old) return false;
    // the page's own messages belong to the previous answer
    ["saved", "review-error", "conflict"].forEach(function (id) {
      var el = document.getElementById(id);
      if (el && !old.contains(el)) el.remove();
    });
    var before = old.getAttribute("data-status");
    var fresh = document.importNode(card, true);
    old.replaceWith(fresh);
    var status = fresh.getAttribute("data-status") || "";
    var badge = document.getElementById("candidate-status");
    if (badge) {
      badge.textContent = fresh.getAttribute("data-status-label") || status;
      badge.className = "status " + status;
    }
    var version = document.getElementById("candidate-version");
    if (version) version.textContent = fresh.getAttribute("data-version") || "";
    bind(fresh.querySelector("form.decision-form"));
    mark("parkplan-decision-shown");
    var message = fresh.querySelector("#saved, #conflict, #review-error");
    if (message) {
      message.setAttribute("tabindex", "-1");
      message.focus({preventScroll: false});
    }
    // the candidate's map draws its status: its own script redraws it in place (same origin; from the map's own
    // table of statuses, as text), so the frame is neither fetched nor drawn again. A frame still loading is redrawn
    // when it has loaded; one whose script cannot be reached is reloaded after the card is painted.
    var map = document.getElementById("candidate-map");
    if (map && status !== before) {
      var redraw = function () {
        try {
          var pp = map.contentWindow && map.contentWindow.PARKPLAN;
          return !!(pp && typeof pp.candidateStatus === "function" && pp.candidateStatus(status));
        } catch (e) { return false; }
      };
      var reload = function () {
        window.setTimeout(function () { map.src = map.getAttribute("src"); }, 50);
      };
      if (!redraw()) {
        var doc = null;
        try { doc = map.contentDocument; } catch (e) { doc = null; }
        if (doc && doc.readyState === "complete" && doc.location.href !== "about:blank") {
          reload();
        } else {
          map.addEventListener("load", function () { if (!redraw()) reload(); }, {once: true});
        }
      }
    }
    return true;
  }

  function bind(form) {
    if (!form) return;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      if (button) button.disabled = true;
      var headers = {};
      headers[HEADER] = KIND;
      fetch(form.action, {method: "POST", body: new URLSearchParams(new FormData(form)), credentials: "same-origin",
                          headers: headers, redirect: "manual"})
        .then(function (response) {
          if (response.headers.get(HEADER) !== KIND) throw new Error("not the decision card");
          return response.text();
        })
        .then(function (html) {
          if (!swap(html)) throw new Error("no decision card in the answer");
        })
        .catch(function () {
          if (button) button.disabled = false;
          postAsPage(form);
        });
    });
  }

  if (window.fetch && window.FormData && window.URLSearchParams && window.DOMParser) {
    bind(document.getElementById("decision-form"));
  }
})();
