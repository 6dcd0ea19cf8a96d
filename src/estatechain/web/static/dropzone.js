// Drag and drop for the filing form's materials (issue 9); no library, no build step.
//
// Each material's file input stays what it is — the form works without this script, and keyboard and
// screen-reader users keep the native control. The script only turns the input's row into a drop
// target: a file dropped on it is put into that input (as if chosen), and the row names the file.
// Only one file per material is taken, and only the types the input accepts; anything else is
// refused with the text from the script tag's data-refused attribute, in the page's language.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.DataTransfer) {
    return;
  }
  var texts = script.dataset;
  var inputs = document.querySelectorAll("input[type=file][data-drop]");

  function accepts(input, file) {
    var allowed = (input.getAttribute("accept") || "").split(",").map(function (t) { return t.trim(); });
    var name = (file.name || "").toLowerCase();  // an OFD file often comes with no type: its extension counts
    return allowed.length === 0 || allowed.some(function (t) {
      return t === file.type || (t.charAt(0) === "." && name.slice(-t.length) === t);
    });
  }

  Array.prototype.forEach.call(inputs, function (input) {
    var zone = input.parentElement;
    var note = document.createElement("span");
    note.className = "drop-note";
    note.setAttribute("aria-live", "polite");
    note.textContent = texts.hint || "";
    zone.classList.add("drop-zone");
    zone.appendChild(note);

    input.addEventListener("change", function () {
      note.textContent = input.files.length ? input.files[0].name : (texts.hint || "");
    });
    zone.addEventListener("dragover", function (event) {
      event.preventDefault();
      zone.classList.add("drop-over");
    });
    zone.addEventListener("dragleave", function () {
      zone.classList.remove("drop-over");
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      zone.classList.remove("drop-over");
      var files = event.dataTransfer ? event.dataTransfer.files : null;
      if (!files || files.length !== 1 || !accepts(input, files[0])) {
        note.textContent = texts.refused || "";
        return;
      }
      var chosen = new DataTransfer();
      chosen.items.add(files[0]);
      input.files = chosen.files;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
  });
}());
