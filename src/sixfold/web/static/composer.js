// The composer: live character counters, risk feedback while typing, autosave that shows a
// conflict instead of overwriting, images with alt text, and a preview of the first link.
// The page works as a plain form without this script.
//
// User text is never put into innerHTML: every piece is a text node or textContent.
// Offsets from the risk engine count Unicode code points, so text is split with
// Array.from(), never indexed as UTF-16.
"use strict";

(() => {
  const form = document.getElementById("composer");
  if (!form) return;

  // The issue asks for feedback within 150 ms of a pause: 100 ms of quiet, then a check
  // that answers in a few milliseconds. Stale answers are aborted, so checking often is cheap.
  const RISK_DELAY_MS = 100;
  const COUNT_DELAY_MS = 100;
  const SAVE_EVERY_MS = 3000;
  const RETRY_OFFLINE_MS = 10000;
  const PREVIEW_DELAY_MS = 800;
  const ALT_DELAY_MS = 800;
  const SEVERITIES = ["info", "review", "block"];
  const VERDICT_LABELS = { ok: "OK", review: "Needs review", block: "Blocked" };
  const LINK = /https?:\/\/[^\s<>"']+/i;

  const byId = (id) => document.getElementById(id);
  const text = byId("text");
  const baseInput = byId("base-version");
  const status = byId("save-status");
  const state = {
    postId: form.dataset.postId || "",
    mode: form.dataset.mode || "author",
    csrf: form.dataset.csrf || "",
    dirty: false,
    changes: 0,
    saving: null,
    saveTimer: null,
    conflict: null,
    submitting: false,
  };
  const autosaves = () => state.mode === "author";

  // Requests -------------------------------------------------------------------------------

  function api(method, url, body, signal) {
    const headers = { Accept: "application/json", "X-CSRF-Token": state.csrf };
    const init = { method, headers, signal, credentials: "same-origin" };
    if (body instanceof FormData) {
      init.body = body;
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init);
  }

  async function errorOf(response) {
    try {
      const body = await response.json();
      if (body.problems && body.problems.length) {
        return body.problems.map((p) => `${p.field}: ${p.problem}`).join("; ");
      }
      return body.error || `The server answered ${response.status}.`;
    } catch {
      return `The server answered ${response.status}.`;
    }
  }

  // What the form holds ----------------------------------------------------------------------

  const channelBoxes = () => Array.from(form.querySelectorAll("input[data-channel]"));
  const customText = (id) => form.querySelector(`[data-channel-text="${id}"]`);
  const publishMode = () => (form.querySelector("input[name=publish_mode]:checked") || {}).value || "now";
  const publishAt = () => (publishMode() === "at" && byId("publish-at").value) || null;
  const baseVersion = () => (baseInput.value ? Number(baseInput.value) : null);
  const setBaseVersion = (version) => { baseInput.value = String(version); };
  const length = (value) => Array.from(value).length;

  function snapshot() {
    const channelTexts = {};
    const channelIds = [];
    for (const box of channelBoxes()) {
      const custom = customText(box.dataset.channel);
      if (box.checked) channelIds.push(Number(box.dataset.channel));
      if (custom && custom.value) channelTexts[box.dataset.channel] = custom.value;
    }
    return {
      text: text.value,
      channel_ids: channelIds,
      channel_texts: channelTexts,
      publish_mode: publishMode(),
      publish_at: publishAt(),
    };
  }

  function apply(data) {
    text.value = data.text || "";
    for (const box of channelBoxes()) {
      const id = box.dataset.channel;
      box.checked = (data.channel_ids || []).includes(Number(id));
      const custom = customText(id);
      if (custom) custom.value = (data.channel_texts || {})[id] || "";
      if (custom && custom.value) custom.closest("details").open = true;
    }
    const mode = form.querySelector(`input[name=publish_mode][value="${data.publish_mode}"]`);
    if (mode) mode.checked = true;
    byId("publish-at").value = data.publish_at || "";
  }

  // Counters -----------------------------------------------------------------------------------
  // Networks count differently (X counts a link as 23 and a CJK character as 2, Bluesky counts
  // graphemes), so the server counts each channel's text by its network's rule. Typing never
  // waits for it: until the answer for the current text arrives, the last answer adjusted by
  // what was typed since stands in, and before any answer the code points do.

  const counts = { timer: null, controller: null, known: new Map() };

  function textFor(id) {
    const custom = customText(id);
    return custom && custom.value ? custom.value : text.value;
  }

  function countOf(id) {
    const value = textFor(id);
    const known = counts.known.get(id);
    if (!known) return length(value);
    if (known.text === value) return known.count;
    return Math.max(0, known.count + length(value) - length(known.text));
  }

  function scheduleCount() {
    clearTimeout(counts.timer);
    counts.timer = setTimeout(fetchCounts, COUNT_DELAY_MS);
  }

  async function fetchCounts() {
    const ids = channelBoxes().filter((box) => box.dataset.limit).map((box) => box.dataset.channel);
    if (!ids.length) return;
    const counted = new Map(ids.map((id) => [id, textFor(id)]));
    const data = snapshot();
    const body = { text: data.text, channel_ids: ids.map(Number), channel_texts: data.channel_texts };
    if (counts.controller) counts.controller.abort();
    counts.controller = new AbortController();
    try {
      const response = await api("POST", "/api/v1/character-counts", body, counts.controller.signal);
      if (!response.ok) return;
      for (const found of (await response.json()).counts) {
        const id = String(found.channel_id);
        if (counted.has(id)) counts.known.set(id, { text: counted.get(id), count: found.count });
      }
      updateCounters();
    } catch {
      // Aborted by newer typing, or offline: the estimate stands until the next answer.
    }
  }

  function seedCounts() {
    // The page was drawn with the server's counts of the texts it shows.
    for (const box of channelBoxes()) {
      if (box.dataset.count) {
        counts.known.set(box.dataset.channel, { text: textFor(box.dataset.channel), count: Number(box.dataset.count) });
      }
    }
  }

  function updateCounters() {
    const chips = [];
    for (const box of channelBoxes()) {
      const id = box.dataset.channel;
      const limit = Number(box.dataset.limit || 0);
      const count = countOf(id);
      const over = limit > 0 && count > limit;
      const counter = form.querySelector(`[data-counter="${id}"]`);
      if (counter) {
        counter.textContent = `${count} / ${limit}`;
        counter.classList.toggle("over", over);
      }
      if (box.checked && limit > 0) {
        const chip = document.createElement("span");
        chip.className = over ? "counter-chip over" : "counter-chip";
        chip.textContent = `${box.dataset.name}: ${count} / ${limit}${over ? " — too long" : ""}`;
        chips.push(chip);
      }
    }
    byId("shared-counters").replaceChildren(...chips);
    updateAltCounters();
  }

  // The longest alt text every chosen channel takes (a draft keeps at most data-alt-max).
  function altLimit() {
    let limit = { chars: Number(form.dataset.altMax), channel: "" };
    for (const box of channelBoxes()) {
      const chars = Number(box.dataset.altLimit || 0);
      if (box.checked && chars > 0 && chars < limit.chars) limit = { chars, channel: box.dataset.name };
    }
    return limit;
  }

  function updateAltCounters() {
    const limit = altLimit();
    for (const field of form.querySelectorAll("textarea[aria-describedby]")) {
      const counter = byId(field.getAttribute("aria-describedby"));
      if (!counter || !("altCounter" in counter.dataset)) continue;
      const count = length(field.value);
      const over = count > limit.chars;
      const by = limit.channel ? ` (${limit.channel})` : "";
      counter.textContent = `${count} / ${limit.chars}${by}${over ? ` — too long for ${limit.channel}` : ""}`;
      counter.classList.toggle("over", over);
    }
  }

  // Risk feedback ------------------------------------------------------------------------------

  const risk = { timer: null, seq: 0, controller: null, source: text };

  function scheduleRisk(source) {
    risk.source = source;
    clearTimeout(risk.timer);
    risk.timer = setTimeout(checkRisk, RISK_DELAY_MS);
  }

  async function checkRisk() {
    const source = risk.source;
    const value = source.value;
    const seq = ++risk.seq;
    if (risk.controller) risk.controller.abort();
    risk.controller = new AbortController();
    const body = { text: value };
    if (source.dataset.channelText) body.channel_id = Number(source.dataset.channelText);
    if (publishAt()) body.when = publishAt();
    try {
      const response = await api("POST", "/api/v1/risk/check", body, risk.controller.signal);
      if (!response.ok) return;
      const verdict = await response.json();
      if (seq === risk.seq) showRisk(source, value, verdict);
    } catch (error) {
      // Aborted by newer typing, or offline: the last verdict stays until the next answer.
    }
  }

  function showRisk(source, value, verdict) {
    const level = VERDICT_LABELS[verdict.verdict] ? verdict.verdict : "ok";
    const badge = byId("verdict");
    badge.className = `verdict verdict-${level}`;
    badge.textContent = VERDICT_LABELS[level];
    const channel = source.dataset.channelText;
    const name = channel ? form.querySelector(`input[data-channel="${channel}"]`).dataset.name : "";
    byId("risk-scope").textContent = channel
      ? `Findings in the text for ${name}.`
      : "Findings in the shared text, for its publishing time. They update as you type.";
    renderMirror(byId("risk-mirror"), value, verdict.findings);
    byId("findings").replaceChildren(...verdict.findings.map(findingItem));
    byId("no-findings").hidden = verdict.findings.length > 0;
  }

  const severityOf = (finding) => (SEVERITIES.includes(finding.severity) ? finding.severity : "info");

  function findingItem(finding) {
    const item = document.createElement("li");
    item.className = `severity-${severityOf(finding)}`;
    const category = document.createElement("span");
    category.className = "finding-category";
    category.textContent = String(finding.category || "").replace(/_/g, " ");
    item.append(category, " ", String(finding.message || ""));
    return item;
  }

  function renderMirror(element, value, findings) {
    const chars = Array.from(value);
    const clamp = (n) => Math.max(0, Math.min(chars.length, Number(n) || 0));
    const spans = findings
      .map((f) => ({ start: clamp(f.start), end: clamp(f.end), finding: f }))
      .filter((s) => s.end > s.start);
    const edges = new Set([0, chars.length]);
    for (const s of spans) { edges.add(s.start); edges.add(s.end); }
    const cuts = Array.from(edges).sort((a, b) => a - b);
    const nodes = [];
    for (let i = 0; i + 1 < cuts.length; i += 1) {
      const piece = chars.slice(cuts[i], cuts[i + 1]).join("");
      const over = spans.filter((s) => s.start <= cuts[i] && cuts[i + 1] <= s.end);
      if (!over.length) { nodes.push(document.createTextNode(piece)); continue; }
      const strongest = over
        .map((s) => severityOf(s.finding))
        .reduce((a, b) => (SEVERITIES.indexOf(b) > SEVERITIES.indexOf(a) ? b : a));
      const mark = document.createElement("mark");
      mark.className = `finding severity-${strongest}`;
      mark.title = Array.from(new Set(over.map((s) => String(s.finding.message)))).join(" ");
      mark.textContent = piece;
      nodes.push(mark);
    }
    element.replaceChildren(...nodes);
  }

  // Saving -------------------------------------------------------------------------------------

  const storageKey = (id = state.postId) => `sixfold:composer:${id || "new"}`;

  function keepLocally() {
    try {
      localStorage.setItem(storageKey(), JSON.stringify({
        savedAt: new Date().toISOString(), baseVersion: baseVersion(), data: snapshot(),
      }));
    } catch {
      // Storage full or disabled: the server copy is all there is.
    }
  }

  function forgetLocally(id = state.postId) {
    try { localStorage.removeItem(storageKey(id)); } catch { /* nothing kept */ }
  }

  function setStatus(message, kind = "") {
    status.textContent = message;
    status.dataset.kind = kind;
  }

  // Times as every page shows them ("22 Nov 2026 11:32 CET"): in the organisation's zone, not
  // the browser's, labelled with the names the server uses (the browser's own names for a
  // zone differ: "GMT+1" for CET).
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const zoneLabels = (() => {
    try { return JSON.parse(form.dataset.zoneLabels || "{}"); } catch { return {}; }
  })();
  const clockParts = new Intl.DateTimeFormat("en-GB", {
    timeZone: form.dataset.zone || "UTC", year: "numeric", month: "numeric", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "longOffset",
  });

  function zoneLabel(offset) {
    const match = /GMT([+-])(\d{2}):(\d{2})/.exec(offset);
    const minutes = match ? (match[1] === "-" ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3])) : 0;
    return zoneLabels[minutes] || offset.replace("GMT", "UTC");
  }

  function clock(date) {
    const part = Object.fromEntries(clockParts.formatToParts(date).map((p) => [p.type, p.value]));
    const month = MONTHS[Number(part.month) - 1];
    return `${part.day} ${month} ${part.year} ${part.hour}:${part.minute} ${zoneLabel(part.timeZoneName)}`;
  }

  function changed(source) {
    state.dirty = true;
    state.changes += 1;
    keepLocally();
    updateCounters();
    scheduleCount();
    if (source) scheduleRisk(source);
    if (!autosaves()) {
      setStatus("Not saved yet — kept in this browser until you save your edit.", "pending");
      return;
    }
    if (state.conflict) {
      byId("conflict-mine").textContent = text.value;
      return;
    }
    setStatus("Unsaved changes", "pending");
    if (!state.saveTimer) state.saveTimer = setTimeout(() => save(), SAVE_EVERY_MS);
  }

  function payload(data) {
    return { ...data, publish_at: data.publish_mode === "at" ? data.publish_at : null };
  }

  function save({ autosave = true, force = false } = {}) {
    clearTimeout(state.saveTimer);
    state.saveTimer = null;
    if (state.conflict || !autosaves()) return Promise.resolve(false);
    if (state.saving) { state.again = true; return state.saving; }
    if (!state.dirty && !force) return Promise.resolve(true);
    const data = snapshot();
    const empty = !data.text.trim() && !Object.keys(data.channel_texts).length;
    if (!state.postId && empty && !force) return Promise.resolve(false);
    state.saving = send(data, autosave).finally(() => {
      state.saving = null;
      if (state.again) { state.again = false; if (state.dirty) save(); }
    });
    return state.saving;
  }

  async function send(data, autosave) {
    const seen = state.changes;
    setStatus("Saving…", "pending");
    let response;
    try {
      response = state.postId
        ? await api("PUT", `/api/v1/posts/${state.postId}`,
          { ...payload(data), base_version: baseVersion(), autosave })
        : await api("POST", "/api/v1/posts", payload(data));
    } catch {
      setStatus("Offline — kept in this browser", "offline");
      state.saveTimer = setTimeout(() => save(), RETRY_OFFLINE_MS);
      return false;
    }
    if (response.status === 409) {
      const body = await response.json().catch(() => ({}));
      if ("current_version" in body) showConflict(body);
      else setStatus(`Not saved: ${body.error || "the post cannot be changed now."}`, "error");
      return false;
    }
    if (!response.ok) {
      setStatus(`Not saved: ${await errorOf(response)}`, "error");
      return false;
    }
    const post = await response.json();
    if (!state.postId) adopt(post.id);
    setBaseVersion(post.version);
    if (seen === state.changes) { state.dirty = false; forgetLocally(); }
    setStatus(`Saved at ${clock(new Date())}`, "ok");
    showProblems(post.problems || []);
    return true;
  }

  function adopt(id) {
    const before = storageKey();
    state.postId = String(id);
    form.dataset.postId = state.postId;
    form.action = `/posts/${id}/edit`;
    byId("take-theirs").href = `/posts/${id}/edit`;
    history.replaceState(null, "", `/posts/${id}/edit`);
    try {
      const kept = localStorage.getItem(before);
      localStorage.removeItem(before);
      if (kept) localStorage.setItem(storageKey(), kept);
    } catch { /* nothing kept */ }
  }

  function showProblems(problems) {
    const list = byId("problems");
    list.replaceChildren(...problems.map((p) => {
      const item = document.createElement("li");
      item.textContent = p;
      return item;
    }));
    byId("problems-card").hidden = problems.length === 0;
  }

  // Conflicts: both texts side by side; the person decides ------------------------------------

  function showConflict(body) {
    state.conflict = body;
    byId("conflict-message").textContent = body.error || "";
    byId("conflict-mine").textContent = text.value;
    byId("conflict-theirs").textContent = body.current_text || "";
    byId("conflict-who").textContent = body.editor_name || "Someone";
    byId("conflict-version").textContent = String(body.current_version);
    const panel = byId("conflict");
    panel.hidden = false;
    panel.scrollIntoView({ block: "start" });
    setStatus("Not saved: someone else saved a newer version", "error");
  }

  byId("keep-mine").addEventListener("click", (event) => {
    if (!state.conflict || !autosaves()) return; // the plain form submits "keep mine"
    event.preventDefault();
    setBaseVersion(state.conflict.current_version);
    state.conflict = null;
    byId("conflict").hidden = true;
    state.dirty = true;
    save({ autosave: false });
  });

  byId("take-theirs").addEventListener("click", () => {
    // Their version is what the page loads; the copy kept here would be offered again.
    state.dirty = false;
    forgetLocally();
  });

  // A copy kept in this browser -------------------------------------------------------------

  function restore() {
    let kept;
    try { kept = JSON.parse(localStorage.getItem(storageKey()) || "null"); } catch { kept = null; }
    if (!kept || !kept.data) return;
    if (JSON.stringify(kept.data) === JSON.stringify(snapshot())) { forgetLocally(); return; }
    const current = baseVersion();
    if (current !== null && kept.baseVersion !== null && kept.baseVersion > current) {
      forgetLocally(); // saved on the server after it was kept: the server copy is newer
      return;
    }
    apply(kept.data);
    // Kept from an older version: saving from it makes the server show both texts.
    if (kept.baseVersion !== null && current !== null) setBaseVersion(kept.baseVersion);
    const notice = byId("restored");
    notice.textContent = `Restored what you wrote in this browser at ${clock(new Date(kept.savedAt))}; it had not been saved.`;
    notice.hidden = false;
    changed(text);
  }

  // Images ------------------------------------------------------------------------------------

  const mediaError = byId("media-error");
  const altTimers = new Map();

  function showMediaError(message) {
    mediaError.textContent = message;
    mediaError.hidden = !message;
  }

  async function upload(file) {
    showMediaError("");
    if (!state.postId) {
      state.dirty = true;
      await save({ force: true });
      if (!state.postId) { showMediaError("Save the post first: it could not be created."); return; }
    }
    const body = new FormData();
    body.append("file", file);
    body.append("alt_text", byId("new-alt-text").value);
    let response;
    try {
      response = await api("POST", `/api/v1/posts/${state.postId}/media`, body);
    } catch {
      showMediaError("Offline: the image was not uploaded.");
      return;
    }
    if (!response.ok) { showMediaError(await errorOf(response)); return; }
    byId("media-list").append(mediaItem(await response.json()));
    byId("file").value = "";
    byId("new-alt-text").value = "";
    updateAltCounters();
    refreshProblems();
  }

  function mediaItem(media) {
    const item = document.createElement("li");
    item.className = "media-item";
    item.dataset.mediaId = String(media.id);
    const image = document.createElement("img");
    image.src = `/media/${Number(media.id)}`;
    image.alt = media.alt_text || "";
    image.className = "thumb";
    const box = document.createElement("div");
    box.className = "stack";
    const label = document.createElement("label");
    label.htmlFor = `alt-${media.id}`;
    label.textContent = `Alt text for ${media.filename}`;
    const field = document.createElement("textarea");
    field.id = `alt-${media.id}`;
    field.name = `alt_${media.id}`;
    field.rows = 2;
    field.maxLength = Number(form.dataset.altMax);
    field.dataset.alt = String(media.id);
    field.value = media.alt_text || "";
    const counter = document.createElement("p");
    counter.id = `alt-count-${media.id}`;
    counter.className = "counter";
    counter.dataset.altCounter = "";
    field.setAttribute("aria-describedby", counter.id);
    const missing = document.createElement("p");
    missing.className = "missing-alt";
    missing.textContent = "Needs alt text";
    missing.hidden = Boolean(field.value.trim());
    const remove = document.createElement("button");
    remove.type = "submit";
    remove.name = "remove_media";
    remove.value = String(media.id);
    remove.className = "link-button danger-text";
    remove.dataset.removeMedia = String(media.id);
    remove.textContent = "Remove image";
    box.append(label, field, counter, missing, remove);
    item.append(image, box);
    return item;
  }

  function describe(field) {
    const item = field.closest(".media-item");
    item.querySelector("img").alt = field.value;
    item.querySelector(".missing-alt").hidden = Boolean(field.value.trim());
    clearTimeout(altTimers.get(field.dataset.alt));
    altTimers.set(field.dataset.alt, setTimeout(async () => {
      try {
        const response = await api("PATCH",
          `/api/v1/posts/${state.postId}/media/${field.dataset.alt}`, { alt_text: field.value });
        showMediaError(response.ok ? "" : await errorOf(response));
        refreshProblems();
      } catch {
        showMediaError("Offline: the alt text was not saved yet.");
      }
    }, ALT_DELAY_MS));
  }

  async function removeImage(button) {
    let response;
    try {
      response = await api("DELETE", `/api/v1/posts/${state.postId}/media/${button.dataset.removeMedia}`);
    } catch {
      showMediaError("Offline: the image was not removed.");
      return;
    }
    if (!response.ok) { showMediaError(await errorOf(response)); return; }
    button.closest(".media-item").remove();
    refreshProblems();
  }

  function refreshProblems() {
    // The server's list of what stops a submit comes with the next save.
    state.dirty = true;
    if (autosaves() && !state.conflict) save({ force: true });
  }

  // Link preview ------------------------------------------------------------------------------

  const preview = { timer: null, url: null, cache: new Map() };

  function firstLink(value) {
    const match = value.match(LINK);
    return match ? match[0].replace(/[.,;:!?)]+$/, "") : null;
  }

  function schedulePreview() {
    if (form.dataset.linkPreviews !== "on") return;
    clearTimeout(preview.timer);
    preview.timer = setTimeout(updatePreview, PREVIEW_DELAY_MS);
  }

  async function updatePreview() {
    const url = firstLink(text.value);
    const card = byId("link-preview");
    if (!url) { preview.url = null; card.hidden = true; return; }
    if (url === preview.url) return;
    preview.url = url;
    let found = preview.cache.get(url);
    if (found === undefined) {
      try {
        const response = await api("GET", `/api/v1/link-preview?url=${encodeURIComponent(url)}`);
        found = response.ok ? await response.json() : { failed: await errorOf(response) };
      } catch {
        found = { failed: "Offline: no preview." };
      }
      preview.cache.set(url, found);
    }
    if (url === preview.url) renderPreview(card, found);
  }

  function renderPreview(card, found) {
    const parts = [];
    const site = document.createElement("p");
    site.className = "preview-site";
    if (found.failed) {
      site.textContent = `No preview: ${found.failed}`;
      parts.push(site);
    } else {
      site.textContent = found.site;
      const title = document.createElement("p");
      title.className = "preview-title";
      title.textContent = found.title;
      parts.push(site, title);
      if (found.description) {
        const description = document.createElement("p");
        description.className = "preview-description";
        description.textContent = found.description;
        parts.push(description);
      }
    }
    card.replaceChildren(...parts);
    card.hidden = false;
  }

  // Wiring ------------------------------------------------------------------------------------

  function showWhen() {
    byId("when-at").hidden = publishMode() !== "at";
  }

  text.addEventListener("input", () => { changed(text); schedulePreview(); });
  for (const box of channelBoxes()) box.addEventListener("change", () => changed(null));
  for (const field of form.querySelectorAll("[data-channel-text]")) {
    field.addEventListener("input", () => changed(field));
  }
  for (const radio of form.querySelectorAll("input[name=publish_mode]")) {
    radio.addEventListener("change", () => { showWhen(); changed(text); });
  }
  byId("publish-at").addEventListener("change", () => changed(text));

  const fileInput = byId("file");
  if (fileInput) {
    fileInput.addEventListener("change", () => { if (fileInput.files[0]) upload(fileInput.files[0]); });
  }
  const mediaList = byId("media-list");
  mediaList.addEventListener("input", (event) => {
    if (event.target.dataset.alt) describe(event.target);
    updateAltCounters();
  });
  const newAltText = byId("new-alt-text");
  if (newAltText) newAltText.addEventListener("input", updateAltCounters);
  mediaList.addEventListener("click", (event) => {
    const button = event.target.closest("[data-remove-media]");
    if (!button || !state.postId) return;
    event.preventDefault();
    removeImage(button);
  });

  form.addEventListener("submit", async (event) => {
    if (state.submitting) return;
    // An autosave still on its way would make the form's base version stale.
    if (state.saving) {
      event.preventDefault();
      const submitter = event.submitter;
      await state.saving;
      state.submitting = true;
      form.requestSubmit(submitter);
      return;
    }
    clearTimeout(state.saveTimer);
    state.submitting = true;
  });

  window.addEventListener("online", () => { if (state.dirty) save(); });

  showWhen();
  seedCounts();
  updateCounters();
  restore();
  if (firstLink(text.value)) updatePreview();
})();
