// Fill the time zone from the browser when the visitor has not chosen one.
(function () {
  var input = document.querySelector("[data-detect-time-zone]");
  if (!input || (input.value && input.value !== "UTC")) return;
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone) input.value = zone;
  } catch (e) {
    // An old browser: UTC stays, and the visitor can type their zone.
  }
})();
