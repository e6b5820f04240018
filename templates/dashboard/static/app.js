// docagent dashboard: live updates and upload previews, no build step.
"use strict";
const FINAL = ["succeeded", "failed", "canceled"];

async function swap(el, url) {
  const r = await fetch(url, { headers: { Accept: "text/html" } });
  if (r.ok) el.innerHTML = await r.text();
}

function liveJobs() {
  const body = document.querySelector("tbody[data-live]");
  if (!body) return;
  const tick = async () => {
    if (body.querySelector('tr[data-final="no"]')) await swap(body, body.dataset.live);
    setTimeout(tick, 2000);
  };
  setTimeout(tick, 2000);
}

function liveJob() {
  const box = document.getElementById("live");
  if (!box || box.dataset.final === "yes" || !window.EventSource) return;
  const id = box.dataset.job;
  const events = new EventSource(`/v1/jobs/${id}/events`);
  events.addEventListener("status", async (e) => {
    const data = JSON.parse(e.data);
    const badge = box.querySelector("[data-status]");
    if (badge) { badge.textContent = data.status; badge.className = `badge badge-${data.status}`; }
    const bar = document.getElementById("progress");
    if (bar) bar.value = data.progress;
    if (FINAL.includes(data.status)) {
      events.close();
      box.dataset.final = "yes";
      await swap(box, `/partials/jobs/${id}`);
    }
  });
  events.onerror = () => events.close();
}

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

function profileCard(d) {
  const card = el("div", { class: "profile-card", "data-dataset": d.id });
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

function uploads() {
  const input = document.getElementById("files");
  if (!input) return;
  const error = document.getElementById("files-error");
  const list = document.getElementById("dataset-list");
  const profiles = document.getElementById("profiles");
  input.addEventListener("change", async () => {
    error.textContent = "";
    for (const file of input.files) {
      const form = new FormData();
      form.append("file", file);
      const csrf = document.querySelector('meta[name="csrf-token"]').content;
      const r = await fetch("/v1/datasets", { method: "POST", body: form, headers: { "X-CSRF-Token": csrf } });
      const body = await r.json().catch(() => ({}));
      if (!r.ok) { error.textContent = typeof body.detail === "string" ? body.detail : `${file.name}: upload failed (${r.status})`; continue; }
      const detail = await (await fetch(`/v1/datasets/${body.id}`)).json();
      const li = el("li");
      const label = el("label");
      const box = el("input", { type: "checkbox", name: "dataset_ids", value: body.id, checked: "" });
      label.append(box, ` ${body.name} `, el("small", {}, `v${body.version} · ${body.rows.toLocaleString()} rows · ${body.filename}`));
      li.append(label);
      list.prepend(li);
      profiles.append(profileCard(detail));
    }
    input.value = "";  // uploaded already: the form sends the dataset ids
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
    headers: {
      "Content-Type": "application/json",
      "X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content,
    },
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

document.addEventListener("DOMContentLoaded", () => { liveJobs(); liveJob(); uploads(); planEditor(); });
