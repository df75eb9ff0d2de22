/* Create bot (issue 10): both strategies' fields are in the page; show the chosen strategy's, keep the other's
 * input (switching back loses nothing; the server reads only the chosen strategy's fields). No inline script (CSP). */
(function () {
  "use strict";
  var select = document.getElementById("id_strategy");
  if (!select) { return; }
  var sets = document.querySelectorAll("fieldset.strategy-params");
  function show() {
    Array.prototype.forEach.call(sets, function (set) {
      set.hidden = set.getAttribute("data-strategy") !== select.value;
    });
  }
  select.addEventListener("change", show);
  show();
}());
