// Keyboard-first labelling. Keys are matched on KeyboardEvent.code (the physical key), so the
// same keys work with an Arabic (or any) keyboard layout. No inline scripts (CSP): everything
// the page needs comes from data- attributes. Without this file the page is a plain form.
(function () {
  "use strict";

  var slot = document.getElementById("annotate-slot");
  if (!slot) return;
  var nextUrl = slot.getAttribute("data-next-url");
  var prefetched = null; // {lease, html} of the next item
  var prefetching = null;
  var caret = null; // {anchor, focus} token indices in caret mode
  var busy = false;

  function current() { return slot.querySelector(".annotate-item"); }
  function form() { return slot.querySelector("#label-form"); }
  function csrf() {
    var input = slot.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // --- conditional fields -------------------------------------------------------------------
  function fieldValue(name) {
    var f = form();
    if (!f) return undefined;
    var set = f.querySelector('fieldset[data-field="' + name + '"]');
    if (!set || set.classList.contains("hidden")) return undefined;
    var checked = set.querySelectorAll("input:checked");
    if (!checked.length) return undefined;
    if (checked[0].type === "checkbox") {
      return Array.prototype.map.call(checked, function (i) { return JSON.parse(i.value); });
    }
    return JSON.parse(checked[0].value);
  }

  function applyConditions() {
    var f = form();
    if (!f) return;
    f.querySelectorAll("fieldset[data-when]").forEach(function (set) {
      var when = JSON.parse(set.getAttribute("data-when"));
      var value = fieldValue(when.field);
      var holds;
      if (Object.prototype.hasOwnProperty.call(when, "equals")) holds = value === when.equals;
      else if (when["in"]) holds = when["in"].indexOf(value) >= 0;
      else holds = value !== undefined;
      set.classList.toggle("hidden", !holds);
      set.disabled = !holds; // disabled fields are not posted
    });
  }

  // --- spans --------------------------------------------------------------------------------
  function tokens() {
    var mark = slot.querySelector(".annotate-item [data-claim-text]");
    return mark ? Array.prototype.slice.call(mark.querySelectorAll(".tok")) : [];
  }

  function tokenOf(node) {
    while (node && node !== document.body) {
      if (node.nodeType === 1 && node.classList.contains("tok")) return node;
      node = node.parentNode;
    }
    return null;
  }

  function selectionSpan() {
    var toks = tokens();
    if (caret && toks.length) {
      var a = Math.min(caret.anchor, caret.focus), b = Math.max(caret.anchor, caret.focus);
      return [Number(toks[a].dataset.s), Number(toks[b].dataset.e)];
    }
    var sel = window.getSelection();
    if (!sel || sel.isCollapsed) return null;
    var t1 = tokenOf(sel.anchorNode), t2 = tokenOf(sel.focusNode);
    if (!t1 || !t2) return null;
    var s = Math.min(Number(t1.dataset.s), Number(t2.dataset.s));
    var e = Math.max(Number(t1.dataset.e), Number(t2.dataset.e));
    return [s, e];
  }

  function spanText(span) {
    return tokens().filter(function (t) {
      return Number(t.dataset.s) >= span[0] && Number(t.dataset.e) <= span[1];
    }).map(function (t) { return t.textContent; }).join(" ");
  }

  function showSpan(name) {
    var input = slot.querySelector('input[name="' + name + '"]');
    var out = slot.querySelector('[data-span-text="' + name + '"]');
    if (!input || !out) return;
    var m = /^(\d+),(\d+)$/.exec(input.value.trim());
    out.textContent = m ? "“" + spanText([Number(m[1]), Number(m[2])]) + "”" : "";
  }

  function setSpan(name) {
    var span = selectionSpan();
    if (!span) return false;
    var input = slot.querySelector('input[name="' + name + '"]');
    if (!input) return false;
    input.value = span[0] + "," + span[1];
    showSpan(name);
    clearCaret();
    var sel = window.getSelection();
    if (sel) sel.removeAllRanges();
    return true;
  }

  function drawCaret() {
    tokens().forEach(function (t, i) {
      var on = caret && i >= Math.min(caret.anchor, caret.focus) && i <= Math.max(caret.anchor, caret.focus);
      t.classList.toggle("caret-sel", !!on);
      t.classList.toggle("caret-at", !!caret && i === caret.focus);
    });
  }

  function clearCaret() { caret = null; drawCaret(); }

  function moveCaret(event) {
    var toks = tokens();
    if (!toks.length) return false;
    var mark = slot.querySelector("[data-claim-text]");
    var rtl = mark && getComputedStyle(mark).direction === "rtl";
    var step = event.code === "ArrowRight" ? 1 : -1;
    if (rtl) step = -step; // the caret moves the way the arrow points on screen
    if (!caret) {
      var start = step > 0 ? 0 : toks.length - 1;
      caret = { anchor: start, focus: start };
    } else {
      var to = Math.max(0, Math.min(toks.length - 1, caret.focus + step));
      caret.focus = to;
      if (!event.shiftKey) caret.anchor = to;
    }
    drawCaret();
    return true;
  }

  // --- prefetch and submit -------------------------------------------------------------------
  function prefetch() {
    if (prefetched || prefetching || !nextUrl) return prefetching;
    var item = current();
    var exclude = item ? item.getAttribute("data-lease") : "";
    prefetching = fetch(nextUrl + "&exclude=" + encodeURIComponent(exclude || ""), {
      headers: { "X-Requested-With": "fetch" }, credentials: "same-origin"
    }).then(function (r) { return r.ok ? r.text() : null; }).then(function (html) {
      prefetching = null;
      if (html !== null) prefetched = { html: html };
      return prefetched;
    }).catch(function () { prefetching = null; return null; });
    return prefetching;
  }

  function showHtml(html) {
    slot.innerHTML = html;
    init();
  }

  function advance() {
    clearCaret();
    if (prefetched) {
      var html = prefetched.html;
      prefetched = null;
      showHtml(html);
      prefetch();
      return;
    }
    var pending = prefetch();
    if (pending) {
      pending.then(function () { advance(); });
    } else {
      window.location.assign(slot.getAttribute("data-page-url"));
    }
  }

  function bumpProgress() {
    var box = document.getElementById("annotate-progress");
    if (!box) return;
    var done = Number(box.getAttribute("data-done")) + 1;
    box.setAttribute("data-done", String(done));
    var bar = document.getElementById("progress-bar");
    if (bar) bar.value = done;
    var text = box.querySelector(".progress-done");
    if (text) text.textContent = String(done);
  }

  function post(target, onOk) {
    if (busy) return;
    busy = true;
    // One request at a time: wait for a prefetch in flight before posting.
    Promise.resolve(prefetching).then(function () { return send(target, onOk); });
  }

  function send(target, onOk) {
    return fetch(target.action, {
      method: "POST",
      body: new FormData(target),
      headers: { "X-Requested-With": "fetch", "X-CSRFToken": csrf() },
      credentials: "same-origin"
    }).then(function (r) {
      busy = false;
      if (r.status === 204) { onOk(); return; }
      return r.text().then(function (text) {
        if (r.status === 400 && text.indexOf("annotate-item") >= 0) { showHtml(text); return; }
        notice(text || "The server refused this request.");
        if (r.status === 409) advance();
      });
    }).catch(function () {
      busy = false;
      target.submit(); // network hiccup: fall back to a plain post
    });
  }

  function notice(text) {
    var box = document.getElementById("annotate-notice");
    if (!box) {
      box = document.createElement("p");
      box.id = "annotate-notice";
      box.className = "error";
      box.setAttribute("role", "alert");
      slot.parentNode.insertBefore(box, slot);
    }
    box.textContent = text;
  }

  function submitLabels() {
    var f = form();
    if (!f) return;
    var item = current();
    if (item && item.getAttribute("data-mode") === "edit") { f.submit(); return; }
    post(f, function () { bumpProgress(); advance(); });
  }

  function openSkip() {
    var skip = slot.querySelector("#skip-form");
    if (!skip) return;
    skip.classList.remove("collapsed");
    var reason = skip.querySelector("#skip-reason");
    if (reason) reason.focus();
  }

  function closeSkip() {
    var skip = slot.querySelector("#skip-form");
    if (skip) skip.classList.add("collapsed");
  }

  // --- keys -----------------------------------------------------------------------------------
  function choiceFor(code) {
    var f = form();
    if (!f) return null;
    var labels = f.querySelectorAll('fieldset:not(.hidden) label.choice[data-key="' + code + '"]');
    return labels.length ? labels[0].querySelector("input") : null;
  }

  function spanFieldFor(code) {
    var f = form();
    if (!f) return null;
    var set = f.querySelector('fieldset:not(.hidden)[data-span-key="' + code + '"]');
    return set ? set.getAttribute("data-field") : null;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    var item = current();
    if (!item) return;
    var target = event.target;
    var typing = target && (target.tagName === "TEXTAREA" ||
      (target.tagName === "INPUT" && (target.type === "text" || target.type === "search")));
    if (event.code === "Escape") {
      clearCaret();
      closeSkip();
      var sel = window.getSelection();
      if (sel) sel.removeAllRanges();
      if (typing) target.blur();
      return;
    }
    if (typing) return; // the skip reason, span offsets and text fields type normally
    if (target && target.tagName === "BUTTON" && (event.code === "Enter" || event.code === "Space")) return;
    var code = event.code;
    if (code === "Enter" || code === "NumpadEnter") {
      event.preventDefault();
      submitLabels();
      return;
    }
    if (code === item.getAttribute("data-skip-key") && !event.shiftKey) {
      event.preventDefault();
      openSkip();
      return;
    }
    if (code === "KeyZ" && !event.shiftKey) {
      var undo = document.getElementById("undo-form");
      if (undo) { event.preventDefault(); undo.submit(); }
      return;
    }
    if (code === "ArrowLeft" || code === "ArrowRight") {
      if (moveCaret(event)) event.preventDefault();
      return;
    }
    var span = spanFieldFor(code);
    if (span) {
      if (setSpan(span)) event.preventDefault();
      return;
    }
    var input = choiceFor(code);
    if (input) {
      event.preventDefault();
      if (input.type === "checkbox") input.checked = !input.checked;
      else input.checked = true;
      applyConditions();
    }
  });

  // --- wiring of a freshly shown item ---------------------------------------------------------
  function init() {
    var item = current();
    if (!item) return;
    var f = form();
    if (f) {
      f.addEventListener("change", applyConditions);
      f.addEventListener("submit", function (event) {
        if (item.getAttribute("data-mode") === "edit") return;
        event.preventDefault();
        submitLabels();
      });
      f.querySelectorAll("[data-span-set]").forEach(function (b) {
        b.addEventListener("click", function () { setSpan(b.getAttribute("data-span-set")); });
      });
      f.querySelectorAll("[data-span-clear]").forEach(function (b) {
        b.addEventListener("click", function () {
          var name = b.getAttribute("data-span-clear");
          var input = f.querySelector('input[name="' + name + '"]');
          if (input) input.value = "";
          showSpan(name);
        });
      });
      f.querySelectorAll(".span-input").forEach(function (i) { showSpan(i.name); });
      var started = f.querySelector("input[name=started]");
      if (started) started.value = String(Date.now() / 1000);
    }
    var skip = slot.querySelector("#skip-form");
    if (skip) {
      skip.classList.add("collapsed");
      skip.addEventListener("submit", function (event) {
        event.preventDefault();
        if (!skip.reportValidity()) return;
        post(skip, function () { advance(); });
      });
    }
    applyConditions();
    if (document.activeElement && slot.contains(document.activeElement) === false &&
        document.activeElement !== document.body) {
      document.activeElement.blur();
    }
    prefetch();
  }

  init();
})();
