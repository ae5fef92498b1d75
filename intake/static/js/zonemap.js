/* The face map (issue 13). The checkboxes of the zone-map fieldset are the answer; the drawing mirrors them.
   Tapping a zone (or Enter/Space on it) opens that zone's checkboxes in a small sheet. Without this script the
   drawing stays hidden and the fieldset works alone. */
(function () {
  "use strict";

  function setUp(map) {
    var field = document.getElementById(map.getAttribute("data-zone-map"));
    var svg = map.querySelector("svg");
    if (!field || !svg || typeof HTMLDialogElement === "undefined") return;
    map.hidden = false;

    var sheet = document.createElement("dialog");
    sheet.className = "zone-sheet";
    sheet.id = field.id + "-sheet";
    var title = document.createElement("h2");
    title.id = field.id + "-sheet-title";
    sheet.setAttribute("aria-labelledby", title.id);
    var holder = document.createElement("div");
    var done = document.createElement("button");
    done.type = "button";
    done.className = "button button-primary";
    done.textContent = map.getAttribute("data-done");
    sheet.append(title, holder, done);
    field.appendChild(sheet);

    var current = null;

    function concerns(code) { return document.getElementById(field.id + "-" + code + "-concerns"); }
    function zoneLabel(code) {
      var details = document.getElementById(field.id + "-" + code);
      return details ? details.querySelector(".zone-name").textContent.trim() : code;
    }

    function sync(code) {
      var box = concerns(code);
      var details = document.getElementById(field.id + "-" + code);
      if (!box || !details) return;
      var picked = Array.prototype.map.call(box.querySelectorAll("input:checked"), function (input) {
        return input.labels[0].textContent.trim();
      });
      details.querySelector("[data-zone-picked]").textContent = picked.join(", ");
      var shape = svg.querySelector('[data-zone="' + code + '"]');
      if (shape) {
        shape.classList.toggle("is-marked", picked.length > 0);
        shape.setAttribute("aria-label", zoneLabel(code) +
          (picked.length ? " – " + map.getAttribute("data-marked") + ": " + picked.join(", ") : ""));
      }
    }

    function open(shape) {
      var code = shape.getAttribute("data-zone");
      var box = concerns(code);
      if (!box) return;
      current = { code: code, box: box, home: box.parentNode, shape: shape };
      title.textContent = zoneLabel(code);
      holder.appendChild(box);
      sheet.showModal();
      var first = box.querySelector("input");
      if (first) first.focus();
    }

    sheet.addEventListener("close", function () {
      if (!current) return;
      current.home.appendChild(current.box);
      sync(current.code);
      current.shape.focus();
      current = null;
    });
    done.addEventListener("click", function () { sheet.close(); });

    svg.addEventListener("click", function (event) {
      var shape = event.target.closest("[data-zone]");
      if (shape) open(shape);
    });
    svg.addEventListener("keydown", function (event) {
      var shape = event.target.closest("[data-zone]");
      if (shape && (event.key === "Enter" || event.key === " ")) {
        event.preventDefault();
        open(shape);
      }
    });
    field.addEventListener("change", function (event) {
      var box = event.target.closest("[data-zone-concerns]");
      if (box) sync(box.getAttribute("data-zone-concerns"));
    });
    Array.prototype.forEach.call(field.querySelectorAll("[data-zone-concerns]"), function (box) {
      sync(box.getAttribute("data-zone-concerns"));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-zone-map]"), setUp);
  });
})();
