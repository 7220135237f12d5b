// The queue dashboard and the operator's actions (admin role). No inline script (strict CSP) and no innerHTML:
// every value goes into the page through textContent.
"use strict";
const $ = (id) => document.getElementById(id);
let token = localStorage.getItem("songy.token") || "";
let timer = null;

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text != null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

async function call(path, options = {}) {
  let response;
  try {
    response = await fetch(path, {
      ...options,
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    });
  } catch (networkError) {
    $("connection").textContent = "Songy is unreachable, retrying…";
    $("connection").hidden = false;
    throw new Error("Songy is unreachable, retrying…");
  }
  $("connection").hidden = true;
  const body = await response.json().catch(() => ({ success: false, error: { message: response.statusText } }));
  if (!body.success) {
    const error = new Error(body.error.message);
    error.status = response.status;
    throw error;
  }
  return body.data;
}

function number(name, value, className) {
  const box = el("div", null, `number ${className || ""}`.trim());
  box.append(el("span", name), el("b", value));
  return box;
}

function row(...cells) {
  const tr = el("tr");
  for (const cell of cells) {
    const td = el("td");
    td.append(cell instanceof Node ? cell : document.createTextNode(String(cell ?? "–")));
    tr.append(td);
  }
  return tr;
}

function showSignIn(message) {
  $("dashboard").hidden = true;
  $("signin").hidden = false;
  $("error").textContent = message;
}

async function refresh() {
  if (!token) { showSignIn(""); return; }
  let d;
  try {
    d = await call("/api/admin/queue");
  } catch (error) {
    if (error.status === 401 || error.status === 403) {
      showSignIn(error.status === 403 ? "This token has no admin role." : "Sign in with an admin token.");
      return;
    }
    $("error").textContent = error.message;
    return;
  }
  $("error").textContent = "";
  $("signin").hidden = true;
  $("dashboard").hidden = false;
  $("queue-state").textContent = d.paused ? "The queue is paused: workers start no new attempt." : "The queue is running.";
  $("pause").hidden = d.paused === true;
  $("resume").hidden = d.paused !== true;
  $("dependencies").replaceChildren(...Object.entries(d.dependencies).map(([name, state]) => {
    if (state === "ok") return number(name, "up", "up");
    const box = number(name, "down", "down");
    box.append(el("small", state));
    return box;
  }));
  $("counts").replaceChildren(...Object.entries(d.counts).map(([k, v]) => number(k, v)));
  const fmt = (s) => (s == null ? "–" : `${s.toFixed(2)} s`);
  $("jobs").replaceChildren(...[
    ...Object.entries(d.jobs.outcomes),
    ["p50", fmt(d.jobs.durationSeconds.p50)], ["p90", fmt(d.jobs.durationSeconds.p90)], ["p99", fmt(d.jobs.durationSeconds.p99)],
    ["outbox pending", d.outbox.pending], ["outbox lag", `${d.outbox.lagSeconds} s`],
  ].map(([k, v]) => number(k, v)));
  $("retries").replaceChildren(...d.retries.map((r) => row(r.musicId, r.attempt, r.nextAttemptAt)));
  $("failures").replaceChildren(...d.failures.map((f) => {
    const retry = el("button", "Retry", "quiet");
    retry.type = "button";
    retry.setAttribute("aria-label", `Retry ${f.musicId}`);
    retry.addEventListener("click", () => act(`/api/admin/music/${f.musicId}/retry`, {}, `Retried ${f.musicId}`));
    return row(f.musicId, f.attempts, f.reason, f.failedAt, retry);
  }));
}

async function act(path, body, done) {
  try {
    await call(path, { method: "POST", body: JSON.stringify(body) });
    $("action-result").textContent = done;
  } catch (error) {
    $("action-result").textContent = error.message;
  }
  await refresh();
}

$("signin-form").addEventListener("submit", (event) => {
  event.preventDefault();
  token = $("token").value.trim();
  localStorage.setItem("songy.token", token);
  refresh();
});
$("pause").addEventListener("click", () => act("/api/admin/queue/pause", {}, "Queue paused"));
$("resume").addEventListener("click", () => act("/api/admin/queue/resume", {}, "Queue resumed"));
$("purge-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const days = Number($("purge-days").value);
  try {
    const report = await call("/api/admin/failures/purge", { method: "POST", body: JSON.stringify({ olderThanDays: days }) });
    $("action-result").textContent = `Purged ${report.purged} failed tracks older than ${days} days`;
  } catch (error) {
    $("action-result").textContent = error.message;
  }
  refresh();
});
$("cancel-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const id = $("cancel-id").value.trim();
  act(`/api/admin/music/${encodeURIComponent(id)}/cancel`, {}, `Canceled ${id}`);
});

refresh();
timer = setInterval(refresh, 5000);
