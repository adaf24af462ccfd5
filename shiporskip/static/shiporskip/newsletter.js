// POST forms on cached pages (form[data-post]) carry no token: fetch this reader's CSRF token,
// switch the form to POST and fill it in. Without JavaScript the form GETs a page with a real form.
(function () {
  var forms = document.querySelectorAll("form[data-post]");
  if (!forms.length) return;
  fetch("/newsletter/token", {credentials: "same-origin", headers: {Accept: "application/json"}})
    .then(function (r) { return r.json(); })
    .then(function (data) {
      forms.forEach(function (form) {
        form.method = "post";
        form.querySelector("input[name=csrfmiddlewaretoken]").value = data.csrf;
      });
    });
  document.addEventListener("htmx:beforeSwap", function (e) {
    var form = e.target, status = e.detail.xhr.status;
    if (!form.matches || !form.matches("form[data-post]")) return;
    if (status === 400) {  // the form again, with what to fix: show it like a success
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    } else if (status === 403) {  // no token yet: fall back to the page with a real form
      form.method = "get";
      form.submit();
    }
  });
})();
