// The photos page, enhanced: a preview of each chosen photo, and a progress bar while they are sent.
// Without this script the page is a plain form with file inputs, and works the same.
(function () {
  "use strict";

  function preview(input) {
    var box = document.querySelector('[data-preview-for="' + input.id + '"]');
    if (!box) { return; }
    box.textContent = "";
    var file = input.files && input.files[0];
    if (!file) { box.hidden = true; return; }
    var form = input.form;
    var max = parseInt(form.getAttribute("data-max-bytes"), 10) || 0;
    var note = document.createElement("p");
    note.className = "hint";
    note.textContent = file.name;
    if (max && file.size > max) {
      note.className = "error-message";
      note.textContent = form.getAttribute("data-too-big") || note.textContent;
    }
    // A data: URL (the pages' CSP allows data: images, not blob:). HEIC shows only where the browser reads it.
    var reader = new FileReader();
    reader.onload = function () {
      var img = document.createElement("img");
      img.alt = "";
      img.width = 160;
      img.onerror = function () { img.remove(); };
      img.src = reader.result;
      box.insertBefore(img, box.firstChild);
    };
    if (file.size <= 15 * 1024 * 1024) { reader.readAsDataURL(file); }
    box.appendChild(note);
    box.hidden = false;
  }

  function chosen(form) {
    return Array.prototype.some.call(form.querySelectorAll('input[type="file"]'), function (i) {
      return i.files && i.files.length;
    });
  }

  function replaceMain(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.getElementById("main");
    var main = document.getElementById("main");
    if (!fresh || !main) { return false; }
    main.innerHTML = fresh.innerHTML;
    document.title = doc.title;
    var target = document.getElementById("error-summary") || main;
    target.focus();
    return true;
  }

  function send(form, submitter) {
    var data = new FormData(form);
    if (submitter && submitter.name) { data.append(submitter.name, submitter.value); }
    var box = form.querySelector("[data-upload-progress]");
    var bar = box && box.querySelector("progress");
    var status = box && box.querySelector("[data-upload-status]");
    var buttons = form.querySelectorAll("button");
    Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });
    if (box) { box.hidden = false; }
    var xhr = new XMLHttpRequest();
    // getAttribute: form.action would be the buttons named "action".
    xhr.open("POST", form.getAttribute("action"));
    xhr.upload.onprogress = function (event) {
      if (!event.lengthComputable || !bar) { return; }
      var percent = Math.round(100 * event.loaded / event.total);
      bar.value = percent;
      if (status) { status.textContent = percent + " %"; }
    };
    xhr.onload = function () {
      if (xhr.status >= 200 && xhr.status < 300 && xhr.responseURL) {
        window.location.assign(xhr.responseURL);  // saved: show the page the server sent us on to
      } else if (!replaceMain(xhr.responseText)) {
        HTMLFormElement.prototype.submit.call(form);
      }
    };
    xhr.onerror = function () {
      Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; });
      if (box) { box.hidden = true; }
      HTMLFormElement.prototype.submit.call(form);
    };
    xhr.send(data);
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.matches && input.matches('[data-photo-form] input[type="file"]')) { preview(input); }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("[data-photo-form]") || !window.FormData || !window.XMLHttpRequest) { return; }
    var submitter = event.submitter;
    if ((submitter && submitter.value === "back") || !chosen(form)) { return; }  // nothing to send: a plain post
    event.preventDefault();
    send(form, submitter);
  });
}());
