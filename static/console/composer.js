// OCOD console: the broadcast composer made live. The page works without this file:
// "Preview" redraws it with the count. Here the character counts and lock-screen
// previews follow the typing, only the audience field that applies is shown, and the
// count of people and devices is asked for as the audience changes.
(function () {
  "use strict";
  var form = document.querySelector("form.composer");
  if (!form) return;

  // Character counts: "12/65", marked when over.
  form.querySelectorAll(".count[data-max]").forEach(function (count) {
    var field = document.getElementById(count.id.replace(/-count$/, ""));
    if (!field) return;
    var max = Number(count.dataset.max);
    var preview = document.querySelector('[data-preview="' + field.name + '"]');
    function update() {
      var n = Array.from(field.value).length;
      count.textContent = n + "/" + max;
      count.classList.toggle("over", n > max);
      if (preview) preview.textContent = field.value.trim();
    }
    field.addEventListener("input", update);
    update();
  });

  // The audience: show the one value field its kind needs.
  var kind = document.getElementById("f-kind");
  var values = ["province", "center", "course", "session"];
  var reach = document.getElementById("reach");
  function showValueField() {
    values.forEach(function (name) {
      var input = document.getElementById("f-" + name);
      if (input) input.closest(".field").hidden = kind.value !== name;
    });
  }

  // The live count, asked for a moment after the last change.
  var timer = null;
  var asked = 0;
  function askReach() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var query = new URLSearchParams({ kind: kind.value });
      values.forEach(function (name) {
        var input = document.getElementById("f-" + name);
        if (input) query.set(name, input.value);
      });
      var mine = ++asked;
      fetch(form.dataset.reach + "?" + query.toString(), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (res) { return res.ok ? res.json() : null; })
        .then(function (body) {
          if (mine !== asked || !body) return;
          reach.textContent = body.text || body.error || "–";
          reach.classList.toggle("error", !body.text);
        })
        .catch(function () {});
    }, 300);
  }
  kind.addEventListener("change", function () { showValueField(); askReach(); });
  values.forEach(function (name) {
    var input = document.getElementById("f-" + name);
    if (input) input.addEventListener(input.tagName === "SELECT" ? "change" : "input", askReach);
  });
  showValueField();
  askReach();

  // When: the date and time only for "later".
  var later = form.querySelector(".later");
  function showLater() {
    var chosen = form.querySelector('input[name="when"]:checked');
    later.hidden = !chosen || chosen.value !== "later";
  }
  form.querySelectorAll('input[name="when"]').forEach(function (radio) {
    radio.addEventListener("change", showLater);
  });
  showLater();
})();
