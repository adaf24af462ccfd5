// Fills in what differs per reader on a cached page: CSRF tokens, their votes, their
// bookmarks and their name, from one small JSON call. Without JavaScript the same forms
// go to a confirm page instead, so everything still works.
(function () {
  "use strict";
  var state = null; // null: loading; false: /me failed; else the reader's state

  function slugsOnPage() {
    var slugs = Array.from(document.querySelectorAll("[data-tool]"), function (el) { return el.dataset.tool; });
    return Array.from(new Set(slugs));
  }

  function armForms(root) {
    root.querySelectorAll("form[data-post]").forEach(function (form) {
      form.method = "post";
      form.querySelectorAll('input[name="csrfmiddlewaretoken"]').forEach(function (i) { i.value = state.csrf; });
      form.removeAttribute("data-post");
    });
  }

  function showVotes(root) {
    root.querySelectorAll(".vote[data-tool]:not([data-live])").forEach(function (widget) {
      var mine = state.votes[widget.dataset.tool];
      widget.querySelectorAll('button[name="verdict"]').forEach(function (button) {
        if (button.value === "none") { button.hidden = !mine; }
        else { button.setAttribute("aria-pressed", String(button.value === mine)); }
      });
    });
  }

  function showBookmarks(root) {
    root.querySelectorAll("form.bookmark[data-tool]:not([data-live])").forEach(function (form) {
      var on = state.bookmarked.indexOf(form.dataset.tool) >= 0;
      var button = form.querySelector('button[name="bookmarked"]');
      button.value = on ? "0" : "1";
      button.setAttribute("aria-pressed", String(on));
      button.textContent = on ? "★ Bookmarked" : "☆ Bookmark";
    });
  }

  function showAccount() {
    var slot = document.querySelector("[data-account]");
    if (slot && state.user) { slot.textContent = state.user; slot.title = "Your account"; }
  }

  fetch("/me?tools=" + encodeURIComponent(slugsOnPage().join(",")),
        {credentials: "same-origin", headers: {Accept: "application/json"}})
    .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
    .then(function (me) {
      state = me;
      armForms(document); showVotes(document); showBookmarks(document); showAccount();
      document.documentElement.dataset.reader = "ready";
    })
    .catch(function () {
      // Without the reader's token every post would be refused: make the forms plain again,
      // so that they go to their confirm page as they do without JavaScript.
      state = false;
      document.querySelectorAll("form[data-post]").forEach(function (form) {
        var plain = form.cloneNode(true);
        Array.from(plain.attributes).forEach(function (a) {
          if (a.name.indexOf("hx-") === 0) { plain.removeAttribute(a.name); }
        });
        form.replaceWith(plain);
      });
    });

  // A click before the reader's state arrived waits for it rather than posting without a token.
  document.addEventListener("htmx:confirm", function (e) {
    if (state !== null) { return; }
    e.preventDefault();
    var wait = setInterval(function () {
      if (state !== null) { clearInterval(wait); if (state) { e.detail.issueRequest(); } }
    }, 50);
  });
  document.addEventListener("htmx:configRequest", function (e) {
    if (state) { e.detail.headers["X-CSRFToken"] = state.csrf; }
  });
  document.addEventListener("vote-changed", function (e) {
    document.querySelectorAll('[data-tally="' + CSS.escape(e.detail.tool) + '"]').forEach(function (el) {
      el.textContent = e.detail.label;
    });
  });
})();
