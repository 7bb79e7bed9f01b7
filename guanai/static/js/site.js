/* Behaviour every page may ask for with a data attribute; the Content-Security-Policy allows
   no inline script and no on…= handler, so pages say what they want and this file does it.

   data-autosubmit                 on a field: submit its form when it changes
   data-confirm="问题"             on a button or link: ask first, do nothing unless confirmed
   data-copy="element-id"          on a button: copy that element's text to the clipboard
   data-after-request="reset"      on an hx-post form: after each answer, empty the form, focus
                                   its [autofocus] field, and reload data-refresh (a URL) into
                                   the element data-refresh-target names
   ?saved=<child id> in the URL    drop the contact form's draft kept on this phone (the form
                                   redirects with it once the contact is saved) */
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var field = event.target.closest && event.target.closest("[data-autosubmit]");
    if (field && field.form) field.form.submit();
  });

  document.addEventListener("click", function (event) {
    var asking = event.target.closest && event.target.closest("[data-confirm]");
    if (asking && !window.confirm(asking.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    var copy = event.target.closest && event.target.closest("[data-copy]");
    if (copy && navigator.clipboard) {
      var source = document.getElementById(copy.dataset.copy);
      navigator.clipboard.writeText(source.innerText).then(function () { copy.textContent = "已复制"; });
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-after-request=reset]")) return;
    form.reset();
    var first = form.querySelector("[autofocus]");
    if (first) first.focus();
    if (form.dataset.refresh && window.htmx) {
      window.htmx.ajax("GET", form.dataset.refresh, { target: form.dataset.refreshTarget, swap: "innerHTML" });
    }
  });

  var saved = new URLSearchParams(location.search).get("saved");
  if (saved && /^\d+$/.test(saved)) {
    try { localStorage.removeItem("guanai-contact-draft-" + saved); } catch (err) { /* private mode */ }
  }
})();
