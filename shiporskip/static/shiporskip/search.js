// Suggestions as you type, for the header's search box and the compare picker. htmx fetches
// the options (GET /search/suggestions, see the inputs' hx-* attributes); this file makes each
// box an ARIA combobox (arrow keys, Enter, Escape, click) and, in the picker, sets the plain
// <select> beside it, which stays the picker without JavaScript and is what the form submits.
(function () {
  "use strict";

  function setUp(input) {
    var list = document.getElementById(input.dataset.suggest);
    if (!list) { return; }
    var select = input.dataset.pick ? document.getElementById(input.dataset.pick) : null;
    var active = -1;

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);

    function options() {
      return Array.from(list.querySelectorAll('[role="option"]:not([aria-disabled="true"])'));
    }

    function setActive(index) {
      var all = options();
      active = all.length ? Math.max(-1, Math.min(index, all.length - 1)) : -1;
      all.forEach(function (option, i) { option.setAttribute("aria-selected", String(i === active)); });
      if (active >= 0) {
        input.setAttribute("aria-activedescendant", all[active].id);
        all[active].scrollIntoView({block: "nearest"});
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function open(show) {
      show = show && list.children.length > 0;
      list.hidden = !show;
      input.setAttribute("aria-expanded", String(show));
      if (!show) { setActive(-1); }
    }

    function choose(option) {
      if (!option) { return; }
      if (select) {
        var slug = option.dataset.slug;
        if (!slug) { window.location.assign(option.dataset.href); return; }
        if (!Array.from(select.options).some(function (o) { return o.value === slug; })) {
          select.add(new Option(option.dataset.name, slug));  // a tool newer than this page
        }
        select.value = slug;
        input.value = option.dataset.name;
        open(false);
        select.dispatchEvent(new Event("change", {bubbles: true}));
      } else if (option.dataset.href) {
        window.location.assign(option.dataset.href);
      }
    }

    list.addEventListener("htmx:afterSwap", function () {
      Array.from(list.children).forEach(function (option, i) { option.id = list.id + "-" + i; });
      active = -1;
      open(document.activeElement === input);
    });
    // Keep the focus in the box while a suggestion is clicked.
    list.addEventListener("mousedown", function (e) { e.preventDefault(); });
    list.addEventListener("click", function (e) {
      var option = e.target.closest('[role="option"]');
      if (option && option.getAttribute("aria-disabled") !== "true") { choose(option); }
    });

    input.addEventListener("keydown", function (e) {
      var all = options();
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        if (!all.length) { return; }
        e.preventDefault();
        if (list.hidden) { open(true); }
        setActive(e.key === "ArrowDown" ? (active + 1) % all.length
                                        : (active <= 0 ? all.length : active) - 1);
      } else if (e.key === "Enter") {
        if (!list.hidden && active >= 0) { e.preventDefault(); choose(all[active]); }
        else if (select && !list.hidden && all.length) { e.preventDefault(); choose(all[0]); }
      } else if (e.key === "Escape" && !list.hidden) {
        e.preventDefault();
        open(false);
      }
    });
    input.addEventListener("focus", function () { open(input.value.trim() !== ""); });
    input.addEventListener("blur", function () { open(false); });
    if (select) {
      select.addEventListener("change", function () {
        var picked = select.options[select.selectedIndex];
        if (picked && picked.value && input.value !== picked.text) { input.value = picked.text; }
      });
    }
  }

  document.querySelectorAll("[data-enhance]").forEach(function (box) {
    box.hidden = false;
    box.querySelectorAll("input").forEach(function (input) { input.disabled = false; });
  });
  document.querySelectorAll("input[data-suggest]").forEach(setUp);
  // The picker's search boxes only find a tool: the form sends the two <select>s, no `q`.
  document.querySelectorAll("form[data-picker]").forEach(function (form) {
    form.addEventListener("formdata", function (e) { e.formData.delete("q"); });
  });
})();
