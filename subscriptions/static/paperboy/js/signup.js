// Progressive enhancement of the signup and manage forms; both work without it.
(function () {
  // Fill the time zone from the browser when the visitor has not chosen one.
  var zoneInput = document.querySelector("[data-detect-time-zone]");
  if (zoneInput && (!zoneInput.value || zoneInput.value === "UTC")) {
    try {
      var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (zone) zoneInput.value = zone;
    } catch (e) {
      // An old browser: UTC stays, and the visitor can type their zone.
    }
  }

  // Live preview: while the visitor types interests, show what the last days would have brought.
  var form = document.querySelector("form[data-preview-url]");
  var box = document.querySelector("[data-live-preview]");
  var interests = form && form.querySelector("textarea[name=interests]");
  if (!form || !box || !interests || !window.fetch) return;
  var button = form.querySelector("[data-preview-button]");
  if (button) button.hidden = true;
  var timer = null;
  var latest = 0;

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function paragraph(text) {
    var p = document.createElement("p");
    p.textContent = text;
    return p;
  }

  function show(data) {
    clear(box);
    if (data.errors) {
      var list = document.createElement("ul");
      list.className = "field-error";
      data.errors.forEach(function (message) {
        var item = document.createElement("li");
        item.textContent = message;
        list.appendChild(item);
      });
      box.appendChild(list);
      return;
    }
    if (data.error) {
      box.appendChild(paragraph(data.error));
      return;
    }
    var plural = data.total === 1 ? "" : "s";
    box.appendChild(paragraph(data.total + " paper" + plural + " of the last " + data.days +
      " days would have matched" + (data.papers.length ? ", for example:" : ".")));
    if (!data.papers.length) return;
    var titles = document.createElement("ul");
    data.papers.forEach(function (paper) {
      var item = document.createElement("li");
      if (paper.url) {
        var link = document.createElement("a");
        link.href = paper.url;
        link.textContent = paper.title;
        item.appendChild(link);
      } else {
        item.textContent = paper.title;
      }
      titles.appendChild(item);
    });
    box.appendChild(titles);
  }

  function refresh() {
    var text = interests.value.trim();
    if (!text) {
      clear(box);
      return;
    }
    var params = new URLSearchParams({ interests: interests.value });
    form.querySelectorAll("input[name=categories]:checked").forEach(function (box) {
      params.append("categories", box.value);
    });
    var request = ++latest;
    fetch(form.getAttribute("data-preview-url") + "?" + params.toString(), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) { return response.json(); })
      .then(function (data) { if (request === latest) show(data); })
      .catch(function () { /* the preview is a nicety: say nothing */ });
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 400);
  }

  interests.addEventListener("input", later);
  form.querySelectorAll("input[name=categories]").forEach(function (box) {
    box.addEventListener("change", later);
  });
  if (interests.value.trim()) later();
})();
