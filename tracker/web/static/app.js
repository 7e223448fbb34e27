// The app's only script: marks and inbox moves without a page reload, and "select all".
// Every form works the same without it (a POST, then back to the page).
"use strict";

document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!form.classList.contains("quick")) return;
  event.preventDefault();
  const body = new URLSearchParams(new FormData(form, event.submitter));
  // getAttribute: a button named "action" shadows form.action.
  const response = await fetch(form.getAttribute("action"), {method: "POST", body, headers: {"Accept": "application/json"}});
  const result = await response.json();
  const row = form.closest("[data-item]");
  if (!response.ok) {
    const note = row.querySelector(".outcome") || form;
    note.insertAdjacentText("beforeend", " error: " + result.error);
    return;
  }
  if (form.classList.contains("move")) {
    row.classList.add("moved");
    row.querySelector(".outcome").textContent = event.submitter.value === "accept" ? "accepted" : "dismissed";
    form.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    return;
  }
  const status = row.querySelector(".status");
  if (status) {
    status.textContent = result.status;
    status.className = "status status-" + result.status;
  }
  form.querySelectorAll("button[name=status]").forEach((b) => { b.disabled = b.value === result.status; });
});

document.addEventListener("change", (event) => {
  const box = event.target;
  if (!box.classList.contains("select-all")) return;
  document.querySelectorAll(`input[type=checkbox][form="${box.dataset.for}"]`).forEach((b) => { b.checked = box.checked; });
});
