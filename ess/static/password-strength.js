// Strength meter and show/hide toggle for the new-password fields. Optional: the pages work without it, and the
// server's policy check (length, blocklist, context, breaches) decides. Only an estimate from length and the kinds
// of characters used; the text says the result, the bar only repeats it.
(function () {
  "use strict";

  function poolSize(password) {
    var pool = 0;
    if (/[a-zäöüß]/.test(password)) { pool += 30; }
    if (/[A-ZÄÖÜ]/.test(password)) { pool += 29; }
    if (/[0-9]/.test(password)) { pool += 10; }
    if (/[ !-/:-@[-`{-~]/.test(password)) { pool += 33; }
    if (/[^\u0000-\u007f äöüßÄÖÜ]/.test(password)) { pool += 100; }
    return pool;
  }

  function estimate(password, minLength) {
    var chars = Array.from(password);
    if (chars.length === 0) { return -1; }
    if (chars.length < minLength) { return 0; }
    if (new Set(chars).size < 5) { return 1; }
    var bits = chars.length * Math.log2(Math.max(poolSize(password), 2));
    if (bits < 60) { return 1; }
    if (bits < 80) { return 2; }
    if (bits < 110) { return 3; }
    return 4;
  }

  function setUp(output) {
    var input = document.getElementById(output.getAttribute("data-for"));
    var meter = output.querySelector("meter");
    var text = output.querySelector(".strength-text");
    var labels = JSON.parse(output.getAttribute("data-labels"));
    var minLength = parseInt(output.getAttribute("data-min"), 10);
    if (!input || !meter || !text) { return; }
    output.hidden = false;
    input.addEventListener("input", function () {
      var score = estimate(input.value, minLength);
      meter.value = Math.max(score, 0);
      text.textContent = score < 0 ? "" : labels[score];
      output.setAttribute("data-score", String(score));
    });
  }

  function setUpToggle(toggle) {
    var box = toggle.querySelector("input[type=checkbox]");
    var form = toggle.closest("form");
    if (!box || !form) { return; }
    toggle.hidden = false;
    box.addEventListener("change", function () {
      form.querySelectorAll("input.revealable").forEach(function (field) {
        field.type = box.checked ? "text" : "password";
      });
    });
  }

  document.querySelectorAll(".strength[data-for]").forEach(setUp);
  document.querySelectorAll(".reveal-toggle").forEach(setUpToggle);
}());
