// The submission page follows its state without a reload (the server renders the fragment, autoescaped);
// the upload form takes a dropped file. No inline script: the CSP allows scripts from this site only.
(function () {
  function poll() {
    var box = document.querySelector("[data-poll]");
    if (!box) return;
    fetch(box.getAttribute("data-poll"), {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) {
        document.getElementById("state").innerHTML = html;
        var now = document.querySelector("#state [data-title]"), title = document.getElementById("sub-title");
        if (now && title && title.textContent !== now.getAttribute("data-title")) {   // the heading says the state
          document.title = document.title.replace(title.textContent, now.getAttribute("data-title"));
          title.textContent = now.getAttribute("data-title");
        }
        var next = document.querySelector("#state [data-poll-after]");   // the server says when to ask again
        setTimeout(poll, 1000 * ((next && parseFloat(next.getAttribute("data-poll-after"))) || 1));
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  function dropzone() {
    var drop = document.getElementById("drop");
    if (!drop) return;
    var input = drop.querySelector("input[type=file]");
    ["dragenter", "dragover"].forEach(function (e) {
      drop.addEventListener(e, function (ev) { ev.preventDefault(); drop.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (e) {
      drop.addEventListener(e, function (ev) { ev.preventDefault(); drop.classList.remove("over"); });
    });
    drop.addEventListener("drop", function (ev) {
      if (ev.dataTransfer && ev.dataTransfer.files.length) { input.files = ev.dataTransfer.files; }
    });
  }
  document.addEventListener("DOMContentLoaded", function () { setTimeout(poll, 500); dropzone(); });
})();
