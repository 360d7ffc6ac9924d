// Review pages: keyboard shortcuts from the schema's keys (KeyboardEvent.code), Enter to
// settle, N (or Shift+N when the schema binds N) for the next item, conditional fields shown
// only when their condition holds, span offsets from a text selection, and the note marked
// required when the final labels override the annotators' majority. No inline code (CSP).
(function () {
  "use strict";

  var form = document.getElementById("review-form");

  function typing(target) {
    if (!target) return false;
    var tag = target.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") return true;
    if (tag === "INPUT") {
      var type = (target.getAttribute("type") || "text").toLowerCase();
      return ["text", "number", "search", "email", "url", "password"].indexOf(type) !== -1;
    }
    return target.isContentEditable;
  }

  function fieldValue(name) {
    if (!form) return null;
    var fs = form.querySelector('fieldset[data-field="' + name + '"]');
    if (!fs) return null;
    if (fs.dataset.type === "multi") {
      return Array.prototype.map.call(fs.querySelectorAll("input:checked"), function (i) {
        return i.value;
      });
    }
    var checked = fs.querySelector("input[type=radio]:checked");
    return checked && checked.value !== "" ? checked.value : null;
  }

  function asForm(value) {
    if (value === true) return "true";
    if (value === false) return "false";
    return value === null || value === undefined ? null : String(value);
  }

  function conditionHolds(when) {
    if (!when) return true;
    var current = fieldValue(when.field);
    var fs = form.querySelector('fieldset[data-field="' + when.field + '"]');
    if (fs && fs.classList.contains("hidden")) return false;
    if (Object.prototype.hasOwnProperty.call(when, "equals")) return current === asForm(when.equals);
    if (when.in) return when.in.map(asForm).indexOf(current) !== -1;
    return current !== null;
  }

  function refresh() {
    if (!form) return;
    var overrides = false;
    form.querySelectorAll("fieldset[data-field]").forEach(function (fs) {
      var when = fs.dataset.when ? JSON.parse(fs.dataset.when) : null;
      fs.classList.toggle("hidden", !conditionHolds(when));
      if (fs.dataset.majority !== undefined && !fs.classList.contains("hidden")) {
        var differs = fieldValue(fs.dataset.field) !== fs.dataset.majority;
        fs.classList.toggle("overridden", differs);
        overrides = overrides || differs;
      }
    });
    var note = document.getElementById("review-note");
    if (note) {
      note.required = overrides;
      note.classList.toggle("needed", overrides && !note.value.trim());
    }
  }

  function selectionOffsets() {
    var sel = window.getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
    var range = sel.getRangeAt(0);
    var holder = range.startContainer.parentElement && range.startContainer.parentElement.closest("[data-claim-text]");
    if (!holder || !holder.contains(range.endContainer)) return null;
    var pre = document.createRange();
    pre.selectNodeContents(holder);
    pre.setEnd(range.startContainer, range.startOffset);
    var start = pre.toString().length;
    return [start, start + range.toString().length];
  }

  function onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) return;
    var next = document.getElementById("next-item");
    if (next && event.code === "KeyN") {
      var wantShift = next.dataset.key === "Shift+KeyN";
      if (event.shiftKey === wantShift) {
        event.preventDefault();
        window.location.assign(next.href);
        return;
      }
    }
    if (!form) return;
    if (event.key === "Enter" && event.target.closest && event.target.closest("a, button")) return;
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      refresh();
      var note = document.getElementById("review-note");
      if (note && note.required && !note.value.trim()) {
        note.focus();
        return;
      }
      form.requestSubmit ? form.requestSubmit() : form.submit();
      return;
    }
    if (event.shiftKey) return;
    var visible = Array.prototype.filter.call(
      form.querySelectorAll("fieldset[data-field]"),
      function (fs) { return !fs.classList.contains("hidden"); }
    );
    for (var i = 0; i < visible.length; i++) {
      var fs = visible[i];
      if (fs.dataset.type === "span" && fs.dataset.key === event.code) {
        var span = selectionOffsets();
        if (span) {
          event.preventDefault();
          fs.querySelector('input[name$="__start"]').value = span[0];
          fs.querySelector('input[name$="__end"]').value = span[1];
        }
        return;
      }
      var input = fs.querySelector('input[data-key="' + event.code + '"]');
      if (input) {
        event.preventDefault();
        input.checked = input.type === "checkbox" ? !input.checked : true;
        input.dispatchEvent(new Event("change", { bubbles: true }));
        return;
      }
    }
  }

  document.addEventListener("keydown", onKey);
  if (form) {
    form.addEventListener("change", refresh);
    form.addEventListener("input", refresh);
    refresh();
  }
})();
