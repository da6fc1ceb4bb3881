// Small progressive enhancements; pages work without them. No inline scripts (CSP).
document.addEventListener("click", function (event) {
  var confirmTarget = event.target.closest("[data-confirm]");
  if (confirmTarget && !window.confirm(confirmTarget.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
});
