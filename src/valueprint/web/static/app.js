/* valueprint participant UI: the 2-D political slider, answer keys, copy buttons, HTMX focus and errors.
   No external resources; works with the Content-Security-Policy script-src 'self'. */
(function () {
  "use strict";

  var STEP = 0.1;
  var BIG_STEP = 0.25;

  function clamp(value) {
    var v = Math.max(-1, Math.min(1, value));
    return Math.round(v * 100) / 100;
  }

  function poleName(label) {
    return String(label || "").split(":")[0];
  }

  function describe(axis, value, low, high) {
    var size = Math.abs(value);
    var side = value < 0 ? poleName(low) : poleName(high);
    var shown = (value > 0 ? "+" : "") + value.toFixed(2);
    if (size < 0.1) return axis + ": centre (" + shown + ")";
    var strength = size < 0.4 ? "leaning " : size < 0.8 ? "" : "strongly ";
    return axis + ": " + strength + side + " (" + shown + ")";
  }

  function initSlider(pad) {
    if (pad.dataset.ready) return;
    pad.dataset.ready = "1";
    var form = pad.closest("form");
    var xInput = form.querySelector("input[name=x]");
    var yInput = form.querySelector("input[name=y]");
    var handle = pad.querySelector(".handle");
    var readout = form.querySelector(".slider-readout");
    var moved = form.querySelector("input[name=moved]");
    function markMoved() { if (moved) moved.value = "1"; }

    function set(x, y) {
      x = clamp(x);
      y = clamp(y);
      xInput.value = x.toFixed(2);
      yInput.value = y.toFixed(2);
      handle.style.left = ((x + 1) / 2) * 100 + "%";
      handle.style.top = ((1 - y) / 2) * 100 + "%";
      var text =
        describe("Economy", x, pad.dataset.xLow, pad.dataset.xHigh) + ". " +
        describe("State power", y, pad.dataset.yLow, pad.dataset.yHigh) + ".";
      pad.setAttribute("aria-valuenow", x.toFixed(2));
      pad.setAttribute("aria-valuetext", text);
      if (readout) readout.textContent = text;
    }

    function fromPointer(event) {
      var box = pad.getBoundingClientRect();
      set(((event.clientX - box.left) / box.width) * 2 - 1, 1 - ((event.clientY - box.top) / box.height) * 2);
    }

    pad.addEventListener("pointerdown", function (event) {
      // Read the position before anything can move the page, and focus without scrolling: a focus
      // that scrolled the pad into view made a phone's first tap land somewhere else.
      fromPointer(event);
      markMoved();
      pad.setPointerCapture(event.pointerId);
      pad.focus({ preventScroll: true });
      event.preventDefault();
    });
    pad.addEventListener("pointermove", function (event) {
      if (pad.hasPointerCapture(event.pointerId)) fromPointer(event);
    });
    pad.addEventListener("keydown", function (event) {
      markMoved();
      var step = event.shiftKey ? BIG_STEP : STEP;
      var x = Number(xInput.value) || 0;
      var y = Number(yInput.value) || 0;
      switch (event.key) {
        case "ArrowLeft": x -= step; break;
        case "ArrowRight": x += step; break;
        case "ArrowUp": y += step; break;
        case "ArrowDown": y -= step; break;
        case "Home": x = -1; break;
        case "End": x = 1; break;
        case "PageUp": y = 1; break;
        case "PageDown": y = -1; break;
        default: return;
      }
      event.preventDefault();
      set(x, y);
    });
    set(Number(xInput.value) || 0, Number(yInput.value) || 0);
  }

  function copyFallback(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (error) {
      ok = false;
    }
    area.remove();
    return ok;
  }

  function copy(button) {
    var target = document.getElementById(button.dataset.copyTarget);
    if (!target) return;
    var text = "value" in target ? target.value : target.textContent.trim();
    var scope = button.closest(".card") || document;
    var status = scope.querySelector(".copy-status");
    function done(ok) {
      if (!ok && copyFallback(text)) ok = true;
      button.focus();
      if (status) status.textContent = ok ? "Copied." : "Could not copy: select the text and copy it yourself.";
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(false); });
    } else {
      done(false);
    }
  }

  function init(root) {
    (root || document).querySelectorAll(".pad[role=slider]").forEach(initSlider);
  }

  function errorBox() {
    return document.getElementById("errors");
  }

  function showError(xhr) {
    var box = errorBox();
    if (!box) return;
    var message = "Something went wrong. Your earlier answers are saved; reload the page and try again.";
    if (xhr && xhr.responseText) {
      var page = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var found = page.querySelector("[data-error-message]");
      if (found) message = found.textContent.trim();
    } else if (!xhr) {
      message = "Could not reach the server. Check your connection; your earlier answers are saved.";
    }
    box.textContent = message;
    box.hidden = false;
  }

  function keyButton(form, key) {
    var buttons = form.querySelectorAll("button[data-key]");
    for (var i = 0; i < buttons.length; i++) {
      if (buttons[i].dataset.key.split(" ").indexOf(key) >= 0) return buttons[i];
    }
    return null;
  }

  /* One key answers: 1-5 on a statement, the option's letter (or its number) on a scenario. */
  function answerByKey(event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.repeat) return;
    var target = event.target;
    if (target && target.closest && target.closest("input, textarea, select, [contenteditable], .pad")) return;
    var form = document.getElementById("question");
    if (!form || form.classList.contains("htmx-request")) return;
    var button = keyButton(form, String(event.key).toLowerCase());
    if (!button) return;
    event.preventDefault();
    button.click();
  }

  document.addEventListener("keydown", answerByKey);
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.copy");
    if (button) copy(button);
  });
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (event) { init(event.detail.elt); });
  document.addEventListener("htmx:afterSettle", function () {
    var box = errorBox();
    if (box) box.hidden = true;
    var title = document.getElementById("question-title");
    if (title && document.activeElement !== title) title.focus();
  });
  document.addEventListener("htmx:responseError", function (event) { showError(event.detail.xhr); });
  document.addEventListener("htmx:sendError", function () { showError(null); });
})();
