// kawaraban admin: live preview of the compose form, a progress bar
// that follows a sending issue, and one that follows a CSV import.
// Everything works without this script.
(function () {
  "use strict";

  function preview() {
    var form = document.getElementById("compose");
    if (!form) return;
    var help = document.querySelector(".js-only");
    if (help) help.hidden = false;
    var timer = null;
    function run() {
      var data = new URLSearchParams(new FormData(form));
      fetch(form.dataset.preview, { method: "POST", body: data, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (p) {
          if (p.error) { document.getElementById("preview-text").textContent = p.error; return; }
          document.getElementById("preview-subject").textContent = p.subject;
          document.getElementById("preview-html").srcdoc = p.html;
          document.getElementById("preview-text").textContent = p.text;
          jis(p.non_jis || []);
        })
        .catch(function () {});
    }
    // Characters ISO-2022-JP cannot carry, named by the server in the
    // page's language (web/jis.go).
    function jis(chars) {
      var box = document.getElementById("jis-box"), list = document.getElementById("jis-list");
      if (!box || !list) return;
      var ja = document.getElementById("jis").dataset.ja === "1";
      list.textContent = "";
      chars.forEach(function (c) {
        var li = document.createElement("li");
        li.textContent = ja ? c.message_ja : c.message;
        list.appendChild(li);
      });
      box.hidden = chars.length === 0;
    }
    form.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(run, 400);
    });
    run();
  }

  function progress() {
    var box = document.getElementById("progress");
    if (!box) return;
    var active = { scheduled: 1, sending: 1, paused: 1 };
    if (!active[box.dataset.status]) return;
    function set(id, v) { var e = document.getElementById(id); if (e) e.textContent = v; }
    function tick() {
      fetch(box.dataset.url, { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (p) {
          document.getElementById("progress-bar").value = p.percent;
          set("progress-pct", p.percent + "%");
          set("c-sent", p.sent); set("c-total", p.total); set("c-failed", p.failed); set("c-bounced", p.bounced);
          // The words come from the page (data-rate, data-eta: "%s/s").
          set("c-rate", p.per_second ? box.dataset.rate.replace("%s", p.per_second.toFixed(1)) : "");
          set("c-eta", p.eta_seconds ? box.dataset.eta.replace("%s", Math.ceil(p.eta_seconds / 60)) : "");
          set("c-error", p.last_error || "");
          set("status", p.status_label || p.status);
          if (active[p.status]) setTimeout(tick, 1500);
          else if (p.status !== box.dataset.status) location.reload(); // show the actions of the new state
        })
        .catch(function () { setTimeout(tick, 5000); });
    }
    tick();
  }

  // importProgress shows, while an upload's import runs, how far the
  // newest import of the list has got (the page stays until the import
  // is done and its report comes back).
  function importProgress() {
    var form = document.getElementById("import-form");
    var box = document.getElementById("import-progress");
    if (!form || !box) return;
    form.addEventListener("submit", function () {
      if (form.querySelector("#dry_run").checked) return;
      var since = Date.now() - 5000;
      box.hidden = false;
      function tick() {
        fetch(form.dataset.progress, { credentials: "same-origin" })
          .then(function (r) { return r.json(); })
          .then(function (p) {
            var im = p.imports && p.imports[0];
            if (im && Date.parse(im.started) >= since) {
              document.getElementById("import-bar").value = im.percent;
              document.getElementById("import-pct").textContent = im.percent + "% (" + im.written + "/" + im.valid + ")";
            }
            setTimeout(tick, 1000);
          })
          .catch(function () { setTimeout(tick, 3000); });
      }
      setTimeout(tick, 500);
    });
  }

  // The subscriber list: one box ticks every subscriber of the page.
  function selectPage() {
    var all = document.getElementById("select-page");
    if (!all) return;
    all.hidden = false;
    all.addEventListener("change", function () {
      document.querySelectorAll('#bulk input[name="id"]').forEach(function (c) { c.checked = all.checked; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { preview(); progress(); importProgress(); selectPage(); });
})();
