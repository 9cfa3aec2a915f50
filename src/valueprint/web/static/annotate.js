/* The annotate page, keyboard first: 1-9 (0 = 10) pick the acceptability, Enter saves, S skips, U goes back
   (undoes the last label or skip), W writes the "why", V goes to the values (arrow keys set one, without
   wrapping round from "− violates" to "+ upholds"; Tab the next); Escape leaves a text field. "This shows
   personal data" hides the unit at once, before the server answers. No external resources (CSP script-src 'self'). */
(function () {
  "use strict";

  function section() {
    return document.getElementById("unit");
  }

  function busy(unit) {
    return unit.classList.contains("htmx-request") || !!unit.querySelector(".htmx-request");
  }

  var ARROWS = { ArrowLeft: -1, ArrowUp: -1, ArrowRight: 1, ArrowDown: 1 };

  function step(form, radio, by) {
    var group = Array.prototype.slice.call(form.querySelectorAll("input[type=radio]"))
      .filter(function (other) { return other.name === radio.name; });
    var next = group[group.indexOf(radio) + by];
    if (!next) return; // at the end: stay
    next.checked = true;
    next.focus();
    next.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function onKey(event) {
    var unit = section();
    if (!unit || event.altKey || event.ctrlKey || event.metaKey) return;
    var form = document.getElementById("label-form");
    var target = event.target && event.target.closest ? event.target : document.body;
    var inText = target.closest("textarea, input[type=text], [contenteditable]");
    if (event.key === "Enter") {
      if (!form || event.isComposing || busy(unit)) return;
      if (target.closest("button, a, summary")) return; // they act on Enter themselves
      if (target.closest("textarea") && event.shiftKey) return; // a new line in "why"
      if (inText && !target.closest("#label-form")) return; // e.g. the flag's reason submits the flag
      event.preventDefault();
      form.requestSubmit(document.getElementById("save"));
      return;
    }
    if (inText) {
      if (event.key === "Escape") target.blur();
      return;
    }
    if (ARROWS[event.key] && target.matches && target.matches("#label-form input[type=radio]")) {
      event.preventDefault(); // the browser's own arrows wrap round: the last option after the first
      step(form, target, ARROWS[event.key]);
      return;
    }
    if (event.repeat || event.shiftKey) return;
    var key = String(event.key).toLowerCase();
    if (/^[0-9]$/.test(key)) {
      if (!form) return;
      var radios = form.querySelectorAll("input[name=acceptability]");
      var radio = radios[key === "0" ? 9 : Number(key) - 1];
      if (!radio) return;
      event.preventDefault();
      radio.checked = true;
      radio.focus();
      return;
    }
    if (key === "v") {
      var row = form && form.querySelector(".value-row");
      if (row) {
        event.preventDefault();
        (row.querySelector("input:checked") || row.querySelector("input")).focus();
      }
      return;
    }
    if (key === "w") {
      var why = document.getElementById("why");
      if (why) {
        event.preventDefault();
        why.focus();
      }
      return;
    }
    var button = unit.querySelector('button[data-key="' + key + '"]');
    if (button && !busy(unit)) {
      event.preventDefault();
      button.click();
    }
  }

  function hideAtOnce(event) {
    if (!event.target || event.target.id !== "flag-form") return;
    var unit = section();
    if (!unit) return;
    unit.querySelectorAll("[data-hide-on-flag]").forEach(function (part) { part.hidden = true; });
    var status = document.getElementById("annotate-status");
    if (status) status.textContent = "Hidden. Getting the next unit…";
  }

  document.addEventListener("keydown", onKey);
  document.addEventListener("DOMContentLoaded", function () {
    var heading = document.getElementById("unit-heading"); // keys work at once; Tab starts at the labels
    if (heading && !location.hash) heading.focus({ preventScroll: true });
  });
  document.addEventListener("submit", hideAtOnce, true);
  document.addEventListener("htmx:afterSettle", function (event) {
    var heading = document.getElementById("unit-heading");
    if (heading && event.target && event.target.id === "unit") heading.focus({ preventScroll: false });
  });
})();
