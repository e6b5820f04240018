// docagent dashboard: live updates and upload previews, no build step.
"use strict";
const FINAL = (document.querySelector('meta[name="final-statuses"]')?.content ?? "").split(" ");

async function swap(el, url) {
  const r = await fetch(url, { headers: { Accept: "text/html" } });
  if (r.ok) el.innerHTML = await r.text();
}

async function fetchPage(url) {
  const r = await fetch(url, { headers: { Accept: "text/html" } });
  return r.ok ? new DOMParser().parseFromString(await r.text(), "text/html") : null;
}

// The jobs list follows new jobs (made elsewhere: the API, a schedule, another tab) and status changes.
function liveJobs() {
  const body = document.querySelector("tbody[data-page]");
  if (!body) return;
  const tick = async () => {
    if (!document.hidden) {
      const doc = await fetchPage(body.dataset.page).catch(() => null);
      const rows = doc && doc.querySelector("tbody[data-page]");
      if (rows && rows.innerHTML !== body.innerHTML) body.innerHTML = rows.innerHTML;
      const pager = doc && doc.querySelector(".pager");
      const mine = document.querySelector(".pager");
      if (pager && mine && pager.innerHTML !== mine.innerHTML) mine.innerHTML = pager.innerHTML;
    }
    setTimeout(tick, 3000);
  };
  setTimeout(tick, 3000);
}

// The job page follows the job: each status event redraws the status card (badge, timeline, actions).
function liveJob() {
  const box = document.getElementById("live");
  if (!box || box.dataset.final === "yes" || !window.EventSource) return;
  const id = box.dataset.job;
  const events = new EventSource(`/v1/jobs/${id}/events`);
  let shown = box.querySelector("[data-status]")?.textContent.trim();
  events.addEventListener("status", async (e) => {
    const data = JSON.parse(e.data);
    const bar = document.getElementById("progress");
    if (bar) bar.value = data.progress;
    if (FINAL.includes(data.status)) {
      events.close();
      box.dataset.final = "yes";
      await swap(box, `/partials/jobs/${id}`);
      previews();
      return;
    }
    if (data.status === shown) return;
    shown = data.status;
    const doc = await fetchPage(`/partials/jobs/${id}`).catch(() => null);
    const fresh = doc && doc.getElementById("status-card");
    const card = document.getElementById("status-card");
    if (fresh && card && box.dataset.final !== "yes") card.replaceWith(fresh);
  });
  events.onerror = () => events.close();
}

// Preview pages open large in a dialog: arrow keys move between pages, Esc closes, focus returns to the
// thumbnail. Without JavaScript each thumbnail is a plain link to the full-size image.
function previews() {
  const links = [...document.querySelectorAll("a.preview-link")];
  if (!links.length) return;
  let dialog = document.getElementById("viewer");
  if (!dialog) {
    dialog = el("dialog", { id: "viewer", class: "viewer", "aria-labelledby": "viewer-title" });
    const bar = el("div", { class: "viewer-bar" });
    const title = el("h2", { id: "viewer-title" });
    const prev = el("button", { type: "button", class: "secondary", "data-step": "-1", "aria-label": "Previous page" }, "←");
    const next = el("button", { type: "button", class: "secondary", "data-step": "1", "aria-label": "Next page" }, "→");
    const full = el("a", { class: "button secondary", target: "_blank", rel: "noopener" }, "Open image");
    const close = el("button", { type: "button", class: "secondary", "data-close": "" }, "Close");
    bar.append(title, prev, next, full, close);
    const figure = el("div", { class: "viewer-page" });
    figure.append(el("img", { alt: "" }));
    dialog.append(bar, figure);
    document.body.append(dialog);
    dialog.addEventListener("click", (e) => {
      if (e.target === dialog || e.target.closest("[data-close]")) dialog.close();
      const step = e.target.closest("[data-step]");
      if (step) show(Number(dialog.dataset.index) + Number(step.dataset.step));
    });
    dialog.addEventListener("keydown", (e) => {
      if (e.key === "ArrowRight" || e.key === "ArrowDown" || e.key === "PageDown") { e.preventDefault(); show(Number(dialog.dataset.index) + 1); }
      if (e.key === "ArrowLeft" || e.key === "ArrowUp" || e.key === "PageUp") { e.preventDefault(); show(Number(dialog.dataset.index) - 1); }
    });
    dialog.addEventListener("close", () => {
      const opener = document.querySelectorAll("a.preview-link")[Number(dialog.dataset.index)];
      if (opener) opener.focus();
    });
  }
  const show = (i) => {
    const all = [...document.querySelectorAll("a.preview-link")];
    const index = Math.max(0, Math.min(all.length - 1, i));
    const link = all[index];
    dialog.dataset.index = String(index);
    const img = dialog.querySelector(".viewer-page img");
    img.src = link.getAttribute("href");
    img.alt = link.querySelector("img").alt;
    // "of N" only when N is the document's count: at the preview cap the document may have more pages
    const firstOnly = link.closest(".previews").dataset.firstOnly === "yes";
    dialog.querySelector("#viewer-title").textContent = firstOnly
      ? `${link.dataset.label} ${index + 1} (previews show the first ${all.length})`
      : `${link.dataset.label} ${index + 1} of ${all.length}`;
    dialog.querySelector("a.button").href = link.getAttribute("href");
    dialog.querySelector('[data-step="-1"]').disabled = index === 0;
    dialog.querySelector('[data-step="1"]').disabled = index === all.length - 1;
  };
  links.forEach((link, i) => link.addEventListener("click", (e) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;  // a new tab still opens the image
    e.preventDefault();
    show(i);
    if (!dialog.open) dialog.showModal();
    dialog.querySelector("[data-close]").focus();
  }));
}

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

function imageCard(d, file) {
  // the thumbnail is read from the picked file itself: nothing is fetched, and the page's CSP allows data: images
  const card = el("figure", { class: "profile-card image-card", "data-dataset": d.id });
  const img = el("img", { alt: `Preview of ${d.name}`, width: "160" });
  if (file) {
    const reader = new FileReader();
    reader.addEventListener("load", () => { img.src = reader.result; });
    reader.readAsDataURL(file);
  }
  const p = d.profile;
  card.append(img, el("figcaption", {}, `${d.name} · ${p.format.toUpperCase()} image · ${Math.round(p.width)} × ${Math.round(p.height)} px`));
  return card;
}

function describe(d) {
  return d.kind === "image" ? `image · ${d.filename}` : `${d.rows.toLocaleString()} rows · ${d.filename}`;
}

function profileCard(d, file) {
  if (d.kind === "image") return imageCard(d, file);
  // scrolls sideways when wide: focusable, so a keyboard can scroll it too
  const card = el("div", { class: "profile-card", "data-dataset": d.id, tabindex: "0", role: "region", "aria-label": `Preview of ${d.name}` });
  card.append(el("h3", {}, `${d.name} · ${d.rows.toLocaleString()} rows · ${d.columns.length} columns`));
  const table = el("table");
  const head = el("tr");
  d.profile.columns.forEach((c) => { const th = el("th"); th.append(el("div", {}, c.name), el("span", { class: "type" }, c.type)); head.append(th); });
  const thead = el("thead");
  thead.append(head);
  table.append(thead);
  const body = el("tbody");
  d.profile.sample.forEach((row) => { const tr = el("tr"); d.profile.columns.forEach((c) => tr.append(el("td", {}, String(row[c.name] ?? "")))); body.append(tr); });
  table.append(body);
  card.append(table);
  return card;
}

function draftItem(d) {
  const li = el("li", { "data-draft": d.id });
  const label = el("label");
  const box = el("input", { type: "checkbox", name: "draft_ids", value: d.id, checked: "" });
  label.append(box, ` ${d.name} `, el("small", {}, `${describe(d)} · not saved yet`));
  const save = el("button", { type: "button", class: "small secondary" }, "Save as dataset");
  save.addEventListener("click", async () => {
    const r = await fetch(`/v1/drafts/${d.id}/dataset`, { method: "POST", headers: csrfHeaders() });
    if (!r.ok) { save.textContent = "Could not save"; return; }
    const ds = await r.json();
    li.replaceChildren(datasetItem(ds));
  });
  li.append(label, save);
  return li;
}

function datasetItem(ds) {
  const label = el("label");
  label.append(el("input", { type: "checkbox", name: "dataset_ids", value: ds.id, checked: "" }), ` ${ds.name} `,
    el("small", {}, `v${ds.version} · ${describe(ds)} · ${ds.unchanged ? "unchanged: the same file as this saved version" : "saved"}`));
  return label;
}

function csrfHeaders() {
  const token = document.querySelector('meta[name="csrf-token"]');
  return token ? { "X-CSRF-Token": token.content } : {};
}

function uploads() {
  const input = document.getElementById("files");
  const form = document.getElementById("new-job");
  if (!input || !form) return;
  const error = document.getElementById("files-error");
  const list = document.getElementById("draft-list");
  const profiles = document.getElementById("profiles");
  const kept = document.getElementById("files-error-kept");  // sent with the form, so its answer still says why
  const send = async (files) => {
    error.textContent = "";
    kept.value = "";
    input.removeAttribute("aria-invalid");
    for (const file of files) {
      const body = new FormData();
      body.append("file", file);
      // a draft: profiled for this preview, stored as a dataset only when the job is created
      const r = await fetch("/v1/drafts", { method: "POST", body, headers: csrfHeaders() });
      const d = await r.json().catch(() => ({}));
      if (!r.ok) {
        error.textContent = typeof d.detail === "string" ? d.detail : `${file.name}: upload failed (${r.status})`;
        kept.value = error.textContent;
        input.setAttribute("aria-invalid", "true");
        continue;
      }
      list.append(draftItem(d));
      profiles.append(profileCard(d, file));
    }
    input.value = "";  // sent already: the form carries the draft ids
  };
  input.addEventListener("change", () => send([...input.files]));
  form.addEventListener("dragover", (e) => { e.preventDefault(); form.classList.add("dropping"); });
  form.addEventListener("dragleave", () => form.classList.remove("dropping"));
  form.addEventListener("drop", (e) => {
    e.preventDefault();
    form.classList.remove("dropping");
    if (e.dataTransfer && e.dataTransfer.files.length) send([...e.dataTransfer.files]);
  });
}

// The plan editor checks the edited plan against the job's data as you type, before Render.
async function checkPlan(text) {
  const list = document.getElementById("plan-problems");
  const button = document.getElementById("render-plan");
  const show = (problems) => {
    list.replaceChildren(...problems.map((p) => el("li", {}, p)));
    button.disabled = problems.length > 0;
  };
  let plan;
  try { plan = JSON.parse(text); } catch (e) { show([`not JSON: ${e.message}`]); return; }
  const datasets = JSON.parse(text && list.closest("form").dataset.datasets || "[]");
  const r = await fetch("/v1/plans/check", {
    method: "POST",
    headers: { "Content-Type": "application/json", ...csrfHeaders() },
    body: JSON.stringify({ plan, dataset_ids: datasets }),
  });
  const body = await r.json().catch(() => ({}));
  if (document.getElementById("plan-text").value !== text) return;  // a newer edit is being checked
  show(r.ok ? body.problems : [typeof body.detail === "string" ? body.detail : `check failed (${r.status})`]);
}

function planEditor() {
  let timer;
  document.addEventListener("input", (e) => {
    if (e.target.id !== "plan-text") return;
    clearTimeout(timer);
    timer = setTimeout(() => checkPlan(e.target.value), 300);
  });
}

function submitOnce() {
  const form = document.getElementById("new-job");
  if (!form) return;
  const key = form.querySelector('input[name="idempotency_key"]');
  // Back to a submitted form: send the same key again, so the server shows the job it already made
  const nav = performance.getEntriesByType("navigation")[0];
  const last = sessionStorage.getItem("docagent-submitted-key");
  if (nav && nav.type === "back_forward" && last) key.value = last;
  form.addEventListener("submit", () => sessionStorage.setItem("docagent-submitted-key", key.value));
}

// A page that comes back with errors: focus the field of the first one (or the message itself), so neither
// the eye nor a screen reader has to hunt for it below the fold.
function focusFirstError() {
  const first = [...document.querySelectorAll("main .field-error, main form .error, main .form-error")]
    .find((e) => e.textContent.trim() && e.offsetParent !== null);
  if (!first) return;
  let field = first.id ? document.querySelector(`[aria-describedby~="${first.id}"]`) : null;
  if (field && field.matches("fieldset")) field = field.querySelector("input, select, textarea");
  if (field && field.type === "hidden") field = null;
  const target = field || first;
  if (target === first) first.setAttribute("tabindex", "-1");
  target.focus({ preventScroll: true });
  target.scrollIntoView({ block: "center" });
}

document.addEventListener("DOMContentLoaded", () => { submitOnce(); liveJobs(); liveJob(); previews(); uploads(); planEditor(); focusFirstError(); });

// The schedule form: the cron expression in words and its next fire times, as you type.
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function wallClock(iso) {
  // the server sends each time in the zone's own offset: show that wall clock, as the page itself does
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::[\d.]+)?(Z|[+-]\d{2}:\d{2})$/.exec(iso);
  if (!m) return [iso, ""];
  const [, y, mo, d, h, mi, z] = m;
  const day = DAYS[new Date(Date.UTC(+y, +mo - 1, +d)).getUTCDay()];
  return [`${day} ${+d} ${MONTHS[+mo - 1]} ${y}, ${h}:${mi}`, z === "Z" ? "UTC+00:00" : `UTC${z}`];
}

function markField(input, message) {
  const error = document.getElementById(`${input.id}-error`);
  if (error) error.textContent = message || "";
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

function cronPreview() {
  const cron = document.getElementById("cron");
  const zone = document.getElementById("timezone");
  const words = document.getElementById("cron-words");
  const times = document.getElementById("cron-times");
  if (!cron || !zone || !words || !times) return;
  let timer;
  let asked = 0;
  const update = async () => {
    const n = ++asked;
    const query = new URLSearchParams({ cron: cron.value, timezone: zone.value });
    const r = await fetch(`/v1/schedules/preview?${query}`, { headers: { Accept: "application/json" } });
    const body = await r.json().catch(() => ({}));
    if (n !== asked) return;  // a newer edit is being previewed
    if (r.ok) {
      markField(cron);
      markField(zone);
      words.replaceChildren(`${body.description} `, el("span", { class: "muted" }, `(${body.timezone})`));
      times.replaceChildren(...body.next_fire_times.map((iso) => {
        const [when, offset] = wallClock(iso);
        const li = el("li");
        li.append(el("time", { datetime: iso }, when), " ", el("small", {}, offset));
        return li;
      }));
      return;
    }
    const bad = body.field === "timezone" ? zone : cron;
    const detail = typeof body.detail === "string" ? body.detail.replace(/^(cron|timezone): /, "") : `not valid (${r.status})`;
    markField(bad === zone ? cron : zone);
    markField(bad, detail);
    words.replaceChildren(el("span", { class: "muted" }, "Fix the expression or the zone to see when it runs."));
    times.replaceChildren();
  };
  const later = () => { clearTimeout(timer); timer = setTimeout(update, 300); };
  cron.addEventListener("input", later);
  zone.addEventListener("input", later);
  zone.addEventListener("change", later);
}

function sourceChoice() {
  const radios = [...document.querySelectorAll('input[name="source"]')];
  if (!radios.length) return;
  const show = () => {
    const chosen = (radios.find((r) => r.checked) || radios[0]).value;
    document.querySelectorAll("[data-source]").forEach((part) => { part.hidden = part.dataset.source !== chosen; });
  };
  radios.forEach((r) => r.addEventListener("change", show));
  show();
}

// A schedule's run history follows its jobs and webhook deliveries until every row has settled.
function liveRuns() {
  const body = document.querySelector("tbody[data-runs]");
  if (!body) return;
  const tick = async () => {
    if (!body.querySelector('tr[data-final="no"]')) return;
    if (!document.hidden) await swap(body, body.dataset.runs).catch(() => null);
    setTimeout(tick, 2000);
  };
  setTimeout(tick, 2000);
}

document.addEventListener("DOMContentLoaded", () => { cronPreview(); sourceChoice(); liveRuns(); });
