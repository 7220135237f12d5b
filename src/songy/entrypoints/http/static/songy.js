// Songy's page: sign in with a bearer token, generate, watch the status live, play and download.
"use strict";
const api = "/api";
const state = { token: localStorage.getItem("songy.token") || "", socket: null, poll: null };
const $ = (id) => document.getElementById(id);

async function call(path, options = {}) {
  const response = await fetch(api + path, {
    ...options,
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${state.token}`, ...(options.headers || {}) },
  });
  const body = await response.json().catch(() => ({ success: false, error: { message: response.statusText } }));
  if (!body.success) {
    const details = (body.error.details || []).map((d) => `${d.field}: ${d.message}`).join("; ");
    throw new Error(`${body.error.message}${details ? ` (${details})` : ""}`);
  }
  return body.data;
}

async function signIn(token) {
  state.token = token.trim();
  try {
    const me = await call("/me");
    localStorage.setItem("songy.token", state.token);
    $("who").textContent = me.name || me.email || me.clerkId;
    $("credits").textContent = me.credits;
    $("account").hidden = false;
    $("signin").hidden = true;
    $("app").hidden = false;
    await refreshLibrary();
    connectLive();
  } catch (error) {
    $("signin-error").textContent = error.message;
    localStorage.removeItem("songy.token");
  }
}

function trackItem(music) {
  const li = document.createElement("li");
  li.className = "track";
  li.id = `track-${music.musicId}`;
  li.dataset.status = music.status;
  const error = music.error ? `<div class="error">${escapeHtml(music.error)}</div>` : "";
  li.innerHTML = `
    <div><span class="title">${escapeHtml(music.name)}</span><span class="status ${music.status}">${music.status}</span></div>
    <div class="meta">${(music.lengthMs / 1000).toFixed(0)} s · ${music.outputFormat} · ${new Date(music.createdAt).toLocaleString()}</div>
    ${error}
    <div class="player"></div>
    <div class="downloads"></div>`;
  if (music.status === "COMPLETED" && music.audioUrl) attachPlayer(li, music);
  return li;
}

function attachPlayer(li, music) {
  // audioUrl is signed and expires (SONGY_DOWNLOAD_URL_TTL_S); seeking re-requests it with a Range header
  const playable = music.outputFormat.startsWith("mp3") || music.outputFormat.startsWith("opus") || music.outputFormat.startsWith("wav");
  if (playable) {
    const audio = document.createElement("audio");
    audio.controls = true;
    audio.preload = "metadata";
    audio.src = music.audioUrl;
    audio.addEventListener("error", () => renewAudioUrl(audio, music.musicId));
    audio.addEventListener("loadedmetadata", () => { audio.dataset.renewed = ""; });
    li.querySelector(".player").appendChild(audio);
  }
  const downloads = li.querySelector(".downloads");
  for (const [format, label] of [[music.outputFormat, "original"], ["mp3_44100_192", "MP3"], ["wav_44100", "WAV"], ["opus_48000_128", "Opus"]]) {
    const a = document.createElement("a");
    a.textContent = `Download ${label}`;
    a.dataset.format = format;
    a.onclick = async () => {  // a fresh signed link on every click
      const target = await call(`/music-generator/download/${music.musicId}?format=${format}`);
      window.location.href = target.url;
    };
    downloads.appendChild(a);
  }
}

async function renewAudioUrl(audio, musicId) {
  // a page open longer than the link's lifetime gets 403: ask the status route for a freshly signed URL, once
  // per failure, and carry on where the listener was
  if (audio.dataset.renewed) return;
  audio.dataset.renewed = "1";
  const fresh = await call(`/music-generator/status/${musicId}`).catch(() => null);
  if (!fresh || !fresh.audioUrl) return;
  const position = audio.currentTime;
  const wasPlaying = !audio.paused;
  audio.addEventListener("loadedmetadata", () => {
    if (position) audio.currentTime = position;
    if (wasPlaying) audio.play().catch(() => {});
  }, { once: true });
  audio.src = fresh.audioUrl;
}

function upsert(music) {
  const existing = $(`track-${music.musicId}`);
  if (existing && existing.dataset.status === music.status) return;
  const li = trackItem(music);
  if (existing) existing.replaceWith(li);
  else $("library").prepend(li);
  if (music.status !== "GENERATING") call("/me").then((me) => ($("credits").textContent = me.credits));
}

async function refreshLibrary() {
  const page = await call("/music-generator?limit=50");
  $("library").innerHTML = "";
  for (const music of page.items) $("library").appendChild(trackItem(music));
}

function connectLive() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}${api}/music-generator/ws?token=${encodeURIComponent(state.token)}`);
  state.socket = socket;
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "ready") {
      $("live").classList.add("on");
      state.retry = 0;
    }
    if (message.type === "status") upsert(message.data);
  };
  socket.onclose = (event) => {
    $("live").classList.remove("on");
    if (event.code === 4401) {  // the token was refused (expired or forged): ask for a new one
      askForToken("Your session has expired: paste a new token to go on.");
      return;
    }
    if (!state.poll) state.poll = setInterval(pollGenerating, 3000);  // fall back to the seed's polling
    // the server went away (1001 when it shuts down) or the network did: come back, more slowly each time
    state.retry = Math.min((state.retry || 0) + 1, 6);
    setTimeout(() => { if (state.token && state.socket === socket) connectLive(); }, 1000 * 2 ** state.retry);
  };
}

function askForToken(message) {
  state.token = "";
  localStorage.removeItem("songy.token");
  if (state.poll) clearInterval(state.poll);
  state.poll = null;
  $("app").hidden = true;
  $("account").hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = message;
  $("token").value = "";
  $("token").focus();
}

async function pollGenerating() {
  for (const li of document.querySelectorAll('li.track[data-status="GENERATING"]')) {
    upsert(await call(`/music-generator/status/${li.id.slice(6)}`));
  }
}

$("signin-form").onsubmit = (event) => { event.preventDefault(); signIn($("token").value); };
$("signout").onclick = (event) => { event.preventDefault(); localStorage.removeItem("songy.token"); location.reload(); };
$("generate-form").onsubmit = async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  $("generate").disabled = true;
  $("generate-error").textContent = "";
  try {
    const music = await call("/music-generator/generate", {
      method: "POST",
      body: JSON.stringify({
        name: form.get("name"),
        prompt: form.get("prompt"),
        lengthMs: Math.round(Number(form.get("lengthSeconds")) * 1000),
        outputFormat: form.get("outputFormat"),
        modelId: form.get("modelId"),
      }),
    });
    upsert({ ...music, audioUrl: null, updatedAt: music.createdAt });
    call("/me").then((me) => ($("credits").textContent = me.credits));
  } catch (error) {
    $("generate-error").textContent = error.message;
  } finally {
    $("generate").disabled = false;
  }
};

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

if (state.token) signIn(state.token);
