// The header's menu on a narrow screen: folded behind a button, opened and closed by it, closed
// by Escape (focus back on the button). Without this script the button stays hidden and the menu
// is shown whole, wrapped onto as many lines as it needs.
(function () {
  "use strict";
  var button = document.getElementById("menu-toggle");
  if (!button) return;
  var bar = button.closest(".topbar");
  var menu = document.getElementById(button.getAttribute("aria-controls"));
  if (!bar || !menu) return;

  function setOpen(open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
    bar.classList.toggle("menu-open", open);
  }

  bar.classList.add("menu-folds");
  button.hidden = false;
  setOpen(false);
  button.addEventListener("click", function () {
    setOpen(button.getAttribute("aria-expanded") !== "true");
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
      setOpen(false);
      button.focus();
    }
  });
})();
