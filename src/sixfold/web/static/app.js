// Small progressive enhancements; every page works without them.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // A freshly created token is selected when focused, ready to copy.
  for (const field of document.querySelectorAll("[data-select-on-focus]")) {
    field.addEventListener("focus", () => field.select());
  }
  // Forms that ask for confirmation before a consequential action.
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
  // Pages of running jobs refresh their progress until the job ends.
  const progress = document.querySelector("[data-poll]");
  if (progress) pollProgress(progress);
});

async function pollProgress(element) {
  const url = element.dataset.poll;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    let job;
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (!response.ok) continue;
      job = await response.json();
    } catch {
      continue;
    }
    const bar = element.querySelector("progress");
    if (bar && job.total) { bar.max = job.total; bar.value = job.done; }
    const label = element.querySelector("[data-progress-label]");
    // What is counted: rows of a file by default, or what the element names (data-poll-unit).
    const unit = element.dataset.pollUnit || "rows";
    if (label) label.textContent = `${job.done} of ${job.total || "?"} ${unit} · ${job.state}`;
    if (job.finished) { window.location.reload(); return; }
  }
}
