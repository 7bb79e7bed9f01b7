/* The contact form on a phone: keep a draft in the phone's storage while the teacher types (a
   dropped connection or a closed tab loses nothing), offer it back on a fresh form, and fill
   fields from the quick buttons. The form's data-* attributes carry what the template knows:
   data-child, data-fresh="1" on a new unbound form, data-no-draft on a correction,
   data-follow-up (the id of the follow-up date field); elements with data-for-kind show only
   while one of their kinds is chosen. */
(function () {
  "use strict";
  var form = document.getElementById("contact-form");
  if (!form) return;
  var key = "guanai-contact-draft-" + form.dataset.child;
  function fields() {
    return Array.prototype.filter.call(form.elements, function (e) {
      return e.name && e.type !== "file" && e.name !== "csrfmiddlewaretoken" && e.name !== "child" && e.name !== "next";
    });
  }
  function save() {
    if (form.dataset.noDraft) return;  // a correction never touches the new-contact draft
    var v = {};
    fields().forEach(function (e) {
      if (e.type === "radio" || e.type === "checkbox") { if (e.checked) v[e.name] = e.value; } else { v[e.name] = e.value; }
    });
    try { localStorage.setItem(key, JSON.stringify({ t: Date.now(), v: v })); } catch (err) { /* private mode */ }
  }
  if (form.dataset.fresh === "1") {
    try {
      var d = JSON.parse(localStorage.getItem(key) || "null");
      if (d && Date.now() - d.t < 2 * 86400000) {
        fields().forEach(function (e) {
          if (!(e.name in d.v)) { if (e.type === "radio") e.checked = false; return; }
          if (e.type === "radio" || e.type === "checkbox") e.checked = d.v[e.name] === e.value; else e.value = d.v[e.name];
        });
        document.getElementById("draft-note").classList.remove("d-none");
      }
    } catch (err) { /* a broken draft is no draft */ }
  }
  var discard = document.getElementById("draft-discard");
  if (discard) discard.addEventListener("click", function () { localStorage.removeItem(key); location.reload(); });
  form.addEventListener("input", save);
  form.addEventListener("change", save);
  form.addEventListener("submit", save);
  form.querySelectorAll("[data-fill]").forEach(function (b) {
    b.addEventListener("click", function () { document.getElementById(b.dataset.fill).value = b.dataset.value; save(); });
  });
  form.querySelectorAll("[data-date]").forEach(function (b) {
    b.addEventListener("click", function () { document.getElementById(form.dataset.followUp).value = b.dataset.date; save(); });
  });
  // Hints that hold for some kinds only (data-for-kind="home_visit"): shown while one is chosen.
  function showForKind() {
    var chosen = form.querySelector('input[name="kind"]:checked');
    document.querySelectorAll("[data-for-kind]").forEach(function (el) {
      el.hidden = !chosen || el.dataset.forKind.split(" ").indexOf(chosen.value) < 0;
    });
  }
  form.addEventListener("change", showForKind);
  showForKind();
})();
