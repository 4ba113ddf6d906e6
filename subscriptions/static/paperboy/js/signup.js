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

  // Live preview: while the visitor types interests, show what the last days would
  // have brought, line by line. The text is POSTed (a long list does not fit in a URL),
  // and only the answer for the text on screen is ever shown: each new request aborts
  // the one before, and an answer that comes back for another text is dropped.
  var form = document.querySelector("form[data-preview-url]");
  var box = document.querySelector("[data-live-preview]");
  var interests = form && form.querySelector("textarea[name=interests]");
  if (!form || !box || !interests || !window.fetch) return;
  var button = form.querySelector("[data-preview-button]");
  if (button) button.hidden = true;
  // The signup page has a CSRF token; the manage page posts to its own signed link.
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]");
  var timer = null;
  var latest = 0;
  var inFlight = null;

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function paperLink(paper) {
    if (!paper.url) return document.createTextNode(paper.title);
    var link = element("a", "", paper.title);
    link.href = paper.url;
    return link;
  }

  function tidy(line) {
    return line.split(/\s+/).filter(Boolean).join(" ").toLowerCase();
  }

  // "Did you mean …?": put the suggestion in place of the line it corrects.
  function useSuggestion(interest, suggestion) {
    var lines = interests.value.split("\n");
    for (var i = 0; i < lines.length; i++) {
      if (tidy(lines[i]) === tidy(interest)) {
        lines[i] = suggestion;
        interests.value = lines.join("\n");
        interests.focus();
        changed();
        return;
      }
    }
  }

  function serverErrorsAreStale(valid) {
    // What the server said about the text it was sent; the live answer replaces it.
    form.querySelectorAll("[data-interests-errors]").forEach(function (list) {
      list.parentNode.removeChild(list);
    });
    interests.setAttribute("aria-invalid", valid ? "false" : "true");
  }

  function feedbackItem(line) {
    var item = element("li", line.warning ? "has-warning" : "");
    item.appendChild(element("code", "", line.interest));
    if (line.note) {
      // A like line looks for no words: it names the paper it follows.
      item.appendChild(document.createTextNode(": " + line.note));
      if (line.example) {
        item.appendChild(document.createTextNode(" "));
        item.appendChild(paperLink(line.example));
      }
    } else if (line.matches) {
      var plural = line.matches === 1 ? "" : "s";
      item.appendChild(document.createTextNode(": " + line.matches + " paper" + plural));
      if (line.example) {
        item.appendChild(document.createTextNode(", e.g. "));
        item.appendChild(paperLink(line.example));
      }
    }
    if (line.warning) {
      item.appendChild(document.createTextNode(" "));
      var warning = element("span", "feedback-warning", line.warning);
      if (line.suggestion) {
        warning.appendChild(document.createTextNode("; did you mean "));
        var question = element("span", "nowrap");
        var use = element("button", "link-button", line.suggestion);
        use.type = "button";
        use.title = "Use this spelling";
        use.addEventListener("click", function () {
          useSuggestion(line.interest, line.suggestion);
        });
        question.appendChild(use);
        question.appendChild(document.createTextNode("?"));
        warning.appendChild(question);
      }
      item.appendChild(warning);
    }
    return item;
  }

  function show(data) {
    clear(box);
    if (data.errors) {
      serverErrorsAreStale(false);
      var list = element("ul", "field-error");
      list.setAttribute("role", "alert");
      data.errors.forEach(function (message) {
        list.appendChild(element("li", "", message));
      });
      box.appendChild(list);
      return;
    }
    if (data.error) {
      box.appendChild(element("p", "", data.error));
      return;
    }
    serverErrorsAreStale(true);
    if (data.interests && data.interests.length) {
      var lines = element("ul", "interest-feedback");
      data.interests.forEach(function (line) {
        lines.appendChild(feedbackItem(line));
      });
      box.appendChild(lines);
    }
    var plural = data.total === 1 ? "" : "s";
    var total = element("p");
    total.appendChild(element("strong", "", String(data.total)));
    total.appendChild(document.createTextNode(" paper" + plural + " of the last " + data.days +
      " days would have matched" + (data.papers.length ? ", for example:" : ".")));
    box.appendChild(total);
    if (data.papers.length) {
      var titles = element("ul");
      data.papers.forEach(function (paper) {
        var item = element("li");
        item.appendChild(paperLink(paper));
        titles.appendChild(item);
      });
      box.appendChild(titles);
    }
    // The manage page: what the reader's "more / less like this" taught their digest.
    if (!data.suggested || !data.suggested.length) return;
    box.appendChild(element("p", "suggested-intro", "Suggested for you, from what you marked:"));
    var suggested = element("ul", "suggested-papers");
    data.suggested.forEach(function (paper) {
      var item = element("li");
      item.appendChild(paperLink(paper));
      item.appendChild(element("span", "suggested-reason", " · " + paper.reason));
      suggested.appendChild(item);
    });
    box.appendChild(suggested);
  }

  function settled() {
    box.removeAttribute("aria-busy");
    box.classList.remove("is-stale");
  }

  function unavailable() {
    clear(box);
    box.appendChild(element("p", "hint",
      "No preview right now; your interests are still checked when you send the form."));
  }

  function refresh() {
    var text = interests.value;
    var request = ++latest;
    if (inFlight) inFlight.abort();
    inFlight = window.AbortController ? new AbortController() : null;
    if (!text.trim()) {
      clear(box);
      settled();
      return;
    }
    var body = new URLSearchParams();
    body.append("interests", text);
    form.querySelectorAll("input[name=categories]:checked").forEach(function (box) {
      body.append("categories", box.value);
    });
    var headers = { Accept: "application/json" };
    if (csrf) headers["X-CSRFToken"] = csrf.value;
    fetch(form.getAttribute("data-preview-url"), {
      method: "POST",
      body: body,
      headers: headers,
      credentials: "same-origin",
      signal: inFlight ? inFlight.signal : undefined,
    })
      .then(function (response) {
        return response.json().catch(function () { return null; });
      })
      .then(function (data) {
        if (request !== latest || text !== interests.value) return; // another text is on screen
        settled();
        if (data) show(data); else unavailable();
      })
      .catch(function () {
        // Aborted for a newer text (that one answers), or the network failed: never
        // leave the answer for an older text on screen.
        if (request !== latest) return;
        settled();
        unavailable();
      });
  }

  function changed() {
    // Until the answer for the new text comes, the one shown is for an older text.
    if (box.firstChild) {
      box.setAttribute("aria-busy", "true");
      box.classList.add("is-stale");
    }
    clearTimeout(timer);
    timer = setTimeout(refresh, 400);
  }

  interests.addEventListener("input", changed);
  form.querySelectorAll("input[name=categories]").forEach(function (box) {
    box.addEventListener("change", changed);
  });
  if (interests.value.trim()) changed();
})();
