/* Progressive enhancement for the patient form. Everything works without it:
   the server evaluates the same conditions and handles add/remove row buttons. */
(function () {
  "use strict";

  function valuesOf(form) {
    var out = {};
    form.querySelectorAll("[data-link-id]").forEach(function (box) {
      var id = box.getAttribute("data-link-id"), type = box.getAttribute("data-type");
      if (type === "group") { return; }
      var inputs = box.querySelectorAll("input, select, textarea");
      if (type === "multi-choice") {
        out[id] = Array.prototype.filter.call(inputs, function (i) { return i.checked; }).map(function (i) { return i.value; });
      } else if (inputs.length && (inputs[0].type === "radio")) {
        var picked = Array.prototype.find.call(inputs, function (i) { return i.checked; });
        var value = picked ? picked.value : null;
        if (type === "boolean" && value !== null) { value = value === "yes"; }
        out[id] = value;
      } else if (inputs.length && inputs[0].type === "checkbox") {
        out[id] = inputs[0].checked ? true : null;
      } else if (inputs.length) {
        out[id] = inputs[0].value.trim() || null;
      }
    });
    return out;
  }

  function isEmpty(v) { return v === null || v === undefined || v === "" || (Array.isArray(v) && v.length === 0); }

  /* The same operators as intake/conditions.py. within_days and at_least need the visit
     date or derived facts, so only the server judges them; here they count as true. */
  function evaluate(cond, answers) {
    var op = Object.keys(cond)[0], arg = cond[op], key;
    switch (op) {
      case "all": return arg.every(function (c) { return evaluate(c, answers); });
      case "any": return arg.some(function (c) { return evaluate(c, answers); });
      case "not": return !evaluate(arg, answers);
      case "answered": return !isEmpty(answers[arg]);
      case "equals": key = Object.keys(arg)[0]; return answers[key] === arg[key];
      case "includes": key = Object.keys(arg)[0]; return Array.isArray(answers[key]) && answers[key].indexOf(arg[key]) !== -1;
      default: return true;
    }
  }

  function applyConditions(form) {
    var answers = valuesOf(form);
    form.querySelectorAll("[data-enable-when]").forEach(function (box) {
      var show = evaluate(JSON.parse(box.getAttribute("data-enable-when")), answers);
      box.hidden = !show;
    });
  }

  function exclusiveBoxes(form, changed) {
    if (changed.type !== "checkbox") { return; }
    var option = changed.closest(".option"), list = changed.closest(".options");
    if (!option || !list || !changed.checked) { return; }
    var exclusive = option.classList.contains("option-exclusive");
    list.querySelectorAll(".option").forEach(function (other) {
      if (other === option) { return; }
      if (exclusive || other.classList.contains("option-exclusive")) {
        other.querySelector("input").checked = false;
      }
    });
  }

  function renumber(group) {
    var name = group.getAttribute("data-link-id");
    group.querySelectorAll("[data-row]").forEach(function (row, index) {
      var pattern = new RegExp("^(" + name + "-)\\d+(-)");
      row.querySelectorAll("[name], [id], [for], [aria-describedby]").forEach(function (el) {
        ["name", "id", "for", "aria-describedby"].forEach(function (attr) {
          var v = el.getAttribute(attr);
          if (v) { el.setAttribute(attr, v.split(" ").map(function (part) { return part.replace(pattern, "$1" + index + "$2"); }).join(" ")); }
        });
      });
      var number = row.querySelector("[data-row-number]");
      if (number) { number.textContent = String(index + 1); }
      var remove = row.querySelector("[data-remove-row]");
      if (remove) { remove.value = "remove_row:" + name + ":" + index; }
    });
    var rows = group.querySelectorAll("[data-row]").length;
    var add = group.querySelector("[data-add-row]");
    if (add) { add.hidden = rows >= Number(group.getAttribute("data-max-rows") || 10); }
  }

  function addRow(group) {
    var rows = group.querySelectorAll("[data-row]"), last = rows[rows.length - 1];
    var copy = last.cloneNode(true);
    copy.querySelectorAll("input, select, textarea").forEach(function (el) {
      if (el.type === "radio" || el.type === "checkbox") { el.checked = false; }
      else if (el.tagName === "SELECT") { el.selectedIndex = 0; }
      else { el.value = ""; }
      el.removeAttribute("aria-invalid");
    });
    copy.querySelectorAll(".error-message").forEach(function (el) { el.remove(); });
    copy.querySelectorAll(".has-error").forEach(function (el) { el.classList.remove("has-error"); });
    last.parentNode.appendChild(copy);
    renumber(group);
    var first = copy.querySelector("input, select, textarea");
    if (first) { first.focus(); }
  }

  function removeRow(group, row) {
    if (group.querySelectorAll("[data-row]").length === 1) {
      row.querySelectorAll("input, select, textarea").forEach(function (el) {
        if (el.type === "radio" || el.type === "checkbox") { el.checked = false; } else if (el.tagName === "SELECT") { el.selectedIndex = 0; } else { el.value = ""; }
      });
    } else {
      row.remove();
    }
    renumber(group);
    var add = group.querySelector("[data-add-row]");
    if (add) { add.focus(); }
  }

  function enhanceWizard(form) {
    applyConditions(form);
    var dirty = false, submitting = false;
    form.addEventListener("change", function (event) {
      dirty = true;
      exclusiveBoxes(form, event.target);
      applyConditions(form);
    });
    form.addEventListener("input", function () { dirty = true; });
    form.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button) { return; }
      var group = button.closest("[data-type='group']");
      if (button.hasAttribute("data-add-row") && group) { event.preventDefault(); addRow(group); dirty = true; }
      if (button.hasAttribute("data-remove-row") && group) { event.preventDefault(); removeRow(group, button.closest("[data-row]")); dirty = true; }
    });
    form.addEventListener("submit", function (event) {
      /* A second click on "Sign and submit" while the first is on its way does nothing;
         the server stores one submission either way. */
      if (submitting && event.submitter && event.submitter.hasAttribute("data-once")) { event.preventDefault(); return; }
      submitting = true;
      dirty = false;
    });
    window.addEventListener("beforeunload", function (event) {
      if (dirty) { event.preventDefault(); event.returnValue = ""; }
    });
    form.querySelectorAll("[data-type='group']").forEach(renumber);
  }

  /* A drawn signature: pointer strokes on a canvas, kept as a PNG data URL in a hidden input. */
  function signaturePad(pad) {
    var input = document.getElementById(pad.getAttribute("data-signature-pad"));
    var canvas = pad.querySelector("canvas"), ctx = canvas.getContext("2d"), drawing = false;
    pad.hidden = false;
    ctx.lineWidth = 3; ctx.lineCap = "round"; ctx.lineJoin = "round"; ctx.strokeStyle = "#1d2733";
    if (input.value) {
      var img = new Image();
      img.onload = function () { ctx.drawImage(img, 0, 0); };
      img.src = input.value;
    }
    function point(event) {
      var box = canvas.getBoundingClientRect();
      return [(event.clientX - box.left) * canvas.width / box.width, (event.clientY - box.top) * canvas.height / box.height];
    }
    canvas.addEventListener("pointerdown", function (event) {
      drawing = true; canvas.setPointerCapture(event.pointerId);
      var p = point(event); ctx.beginPath(); ctx.moveTo(p[0], p[1]);
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) { return; }
      var p = point(event); ctx.lineTo(p[0], p[1]); ctx.stroke();
    });
    function finish() {
      if (!drawing) { return; }
      drawing = false;
      input.value = canvas.toDataURL("image/png");
      input.dispatchEvent(new Event("input", { bubbles: true }));
    }
    canvas.addEventListener("pointerup", finish);
    canvas.addEventListener("pointercancel", finish);
    pad.querySelector("[data-clear-signature]").addEventListener("click", function () {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      input.value = "";
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-wizard]").forEach(enhanceWizard);
    document.querySelectorAll("[data-signature-pad]").forEach(signaturePad);
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      var target = document.getElementById(button.getAttribute("data-copy"));
      if (!target || !navigator.clipboard) { return; }
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(target.value).then(function () {
          button.textContent = button.getAttribute("data-copied") || "Copied";
        });
      });
    });
  });
}());
