// settle serve: the progress of a run (polls the status endpoint, reloads when it ends),
// and buttons that submit once.
(function () {
  "use strict";
  document.querySelectorAll("form[data-once]").forEach(function (f) {
    f.addEventListener("submit", function () {
      var b = f.querySelector("button[type=submit]");
      if (b) { setTimeout(function () { b.disabled = true; }, 0); }
    });
  });
  var el = document.getElementById("progress");
  if (!el) { return; }
  var url = el.getAttribute("data-status");
  var bar = document.getElementById("bar");
  var stage = document.getElementById("stage");
  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (p) {
        if (p.total > 0) { bar.max = p.total; bar.value = p.done; } else { bar.removeAttribute("value"); }
        if (p.text) { stage.textContent = p.text; }
        if (!p.running) { window.location.reload(); return; }
        setTimeout(poll, 600);
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, 300);
})();
