// Songy's page: sign in with a bearer token, generate, watch the status live, play, download, cancel, delete,
// playlists. Runs under a strict CSP: no inline script, and user text only ever goes in through textContent.
"use strict";
const api = "/api";
const PAGE_SIZE = 20;
const state = { token: localStorage.getItem("songy.token") || "", socket: null, poll: null, cursor: null, playlists: [] };
const $ = (id) => document.getElementById(id);
const UNREACHABLE = "Songy is unreachable, retrying…";

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("aria-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

async function call(path, options = {}) {
  let response;
  try {
    response = await fetch(api + path, {
      ...options,
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${state.token}`, ...(options.headers || {}) },
    });
  } catch (networkError) {
    unreachable();
    throw new Error(UNREACHABLE);
  }
  reachable();
  const body = await response.json().catch(() => ({ success: false, error: { message: `${response.status} ${response.statusText}` } }));
  if (!body.success) {
    const details = (body.error.details || []).map((d) => `${d.field}: ${d.message}`).join("; ");
    const error = new Error(`${body.error.message}${details ? ` (${details})` : ""}`);
    error.status = response.status;
    throw error;
  }
  return body.data;
}

// ---- connection: "unreachable, retrying" instead of "Failed to fetch" ------------------------------------------
let retryDelay = 1000;
let retryTimer = null;
function unreachable() {
  $("connection").textContent = UNREACHABLE;
  $("connection").hidden = false;
  if (retryTimer) return;
  retryTimer = setTimeout(async () => {
    retryTimer = null;
    try {
      const response = await fetch("/health/live");
      if (!response.ok) throw new Error(String(response.status));
      reachable();
      if (state.token) signIn(state.token);
    } catch (error) {
      retryDelay = Math.min(retryDelay * 2, 30000);
      unreachable();
    }
  }, retryDelay);
}
function reachable() {
  retryDelay = 1000;
  $("connection").hidden = true;
}

function announce(text) {
  $("announcer").textContent = text;
}

// ---- account ------------------------------------------------------------------------------------------------------
async function signIn(token) {
  state.token = token.trim();
  $("signin-error").textContent = "";
  try {
    const me = await call("/me");
    localStorage.setItem("songy.token", state.token);
    $("who").textContent = me.name || me.email || me.clerkId;
    $("credits").textContent = me.credits;
    $("account").hidden = false;
    $("signin").hidden = true;
    $("app").hidden = false;
    await Promise.all([refreshLibrary(), refreshPlaylists()]);
    if (!state.socket) connectLive();
  } catch (error) {
    $("signin-error").textContent = error.message;
    if (error.status === 401) localStorage.removeItem("songy.token");
  }
}

function refreshCredits() {
  call("/me").then((me) => ($("credits").textContent = me.credits)).catch(() => {});
}

function askForToken(message) {
  state.token = "";
  localStorage.removeItem("songy.token");
  if (state.poll) clearInterval(state.poll);
  state.poll = null;
  state.socket = null;
  $("app").hidden = true;
  $("account").hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = message;
  $("token").value = "";
  $("token").focus();
}

// ---- tracks -------------------------------------------------------------------------------------------------------
function trackItem(music) {
  const li = el("li", { className: "track", id: `track-${music.musicId}`, dataset: { status: music.status, name: music.name } });
  li.append(
    el("div", {}, el("span", { className: "title", textContent: music.name }), el("span", { className: `status ${music.status}`, textContent: music.status })),
    el("div", { className: "meta", textContent: `${(music.lengthMs / 1000).toFixed(0)} s · ${music.outputFormat} · ${new Date(music.createdAt).toLocaleString()}` }),
  );
  if (music.error) li.append(el("div", { className: "error", textContent: music.error }));
  li.append(el("div", { className: "player" }), el("div", { className: "downloads" }), trackActions(music));
  if (music.status === "COMPLETED" && music.audioUrl) attachPlayer(li, music);
  return li;
}

function trackActions(music) {
  const actions = el("div", { className: "actions" });
  const act = (label, name, handler) => {
    const button = el("button", { type: "button", className: "quiet", textContent: label, "aria-label": `${label} “${name}”` });
    button.addEventListener("click", async () => {
      button.disabled = true;
      $("library-error").textContent = "";
      try {
        await handler();
      } catch (error) {
        $("library-error").textContent = error.message;
      } finally {
        button.disabled = false;
      }
    });
    return button;
  };
  if (music.status === "GENERATING") {
    actions.append(act("Cancel", music.name, async () => upsert(await call(`/music-generator/${music.musicId}/cancel`, { method: "POST" }))));
  }
  actions.append(act("Delete", music.name, async () => {
    await call(`/music-generator/${music.musicId}`, { method: "DELETE" });
    const item = $(`track-${music.musicId}`);
    if (item) item.remove();
    announce(`“${music.name}” deleted`);
    showEmpty();
    refreshCredits();
    refreshPlaylists();
  }));
  if (music.status === "COMPLETED" && state.playlists.length) {
    const choice = el("select", { "aria-label": `Playlist for “${music.name}”` });
    for (const playlist of state.playlists) choice.append(el("option", { value: playlist.playlistId, textContent: playlist.name }));
    actions.append(choice, act("Add to playlist", music.name, async () => {
      await call(`/playlists/${choice.value}/tracks`, { method: "POST", body: JSON.stringify({ musicId: music.musicId }) });
      announce(`“${music.name}” added to a playlist`);
      refreshPlaylists();
    }));
  }
  return actions;
}

function attachPlayer(li, music) {
  // audioUrl is signed and expires (SONGY_DOWNLOAD_URL_TTL_S); seeking re-requests it with a Range header
  const playable = ["mp3", "opus", "wav"].some((prefix) => music.outputFormat.startsWith(prefix));
  if (playable) {
    const audio = el("audio", { controls: true, preload: "metadata", src: music.audioUrl, "aria-label": `Player for “${music.name}”` });
    audio.addEventListener("error", () => renewAudioUrl(audio, music.musicId));
    audio.addEventListener("loadedmetadata", () => { audio.dataset.renewed = ""; });
    const toggle = el("button", { type: "button", className: "quiet play", textContent: "Play", "aria-label": `Play “${music.name}”` });
    toggle.addEventListener("click", () => (audio.paused ? audio.play().catch(() => {}) : audio.pause()));
    audio.addEventListener("play", () => { toggle.textContent = "Pause"; toggle.setAttribute("aria-label", `Pause “${music.name}”`); });
    audio.addEventListener("pause", () => { toggle.textContent = "Play"; toggle.setAttribute("aria-label", `Play “${music.name}”`); });
    li.querySelector(".player").append(audio, toggle);
  }
  const downloads = li.querySelector(".downloads");
  for (const [format, label] of [[music.outputFormat, "original"], ["mp3_44100_192", "MP3"], ["wav_44100", "WAV"], ["opus_48000_128", "Opus"]]) {
    const button = el("button", { type: "button", className: "link", textContent: `Download ${label}`, dataset: { format } });
    button.addEventListener("click", async () => {  // a fresh signed link on every click
      try {
        const target = await call(`/music-generator/download/${music.musicId}?format=${format}`);
        window.location.href = target.url;
      } catch (error) {
        $("library-error").textContent = error.message;
      }
    });
    downloads.append(button);
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
  if (existing) announce(`“${music.name}” is ${music.status.toLowerCase()}`);
  showEmpty();
  if (music.status !== "GENERATING") refreshCredits();
}

function showEmpty() {
  $("library-empty").hidden = $("library").children.length > 0;
}

async function refreshLibrary() {
  const page = await call(`/music-generator?limit=${PAGE_SIZE}`);
  $("library").replaceChildren(...page.items.map(trackItem));
  setCursor(page.nextCursor);
  showEmpty();
}

async function loadMore() {
  const page = await call(`/music-generator?limit=${PAGE_SIZE}&cursor=${encodeURIComponent(state.cursor)}`);
  for (const music of page.items) if (!$(`track-${music.musicId}`)) $("library").append(trackItem(music));
  setCursor(page.nextCursor);
}

function setCursor(cursor) {
  state.cursor = cursor;
  $("more").hidden = !cursor;
}

// ---- playlists ----------------------------------------------------------------------------------------------------
async function refreshPlaylists() {
  const before = state.playlists.length;
  state.playlists = (await call("/playlists")).items;
  const names = (id) => {
    const item = $(`track-${id}`);
    return item ? item.dataset.name : id;
  };
  $("playlists").replaceChildren(...state.playlists.map((playlist) => {
    const remove = el("button", { type: "button", className: "quiet", textContent: "Delete", "aria-label": `Delete playlist “${playlist.name}”` });
    remove.addEventListener("click", async () => {
      try {
        await call(`/playlists/${playlist.playlistId}`, { method: "DELETE" });
        announce(`Playlist “${playlist.name}” deleted`);
        refreshPlaylists();
      } catch (error) {
        $("playlist-error").textContent = error.message;
      }
    });
    const count = playlist.musicIds.length;
    return el("li", { className: "track" },
      el("div", {}, el("span", { className: "title", textContent: playlist.name }), el("span", { className: "meta", textContent: ` · ${count} track${count === 1 ? "" : "s"}` })),
      count ? el("div", { className: "meta", textContent: playlist.musicIds.map(names).join(", ") }) : null,
      el("div", { className: "actions" }, remove));
  }));
  $("playlists-empty").hidden = state.playlists.length > 0;
  if (before || state.playlists.length) {  // each finished track's "Add to playlist" choices follow the list
    for (const li of document.querySelectorAll('#library li.track[data-status="COMPLETED"]')) {
      li.querySelector(".actions").replaceWith(trackActions({ musicId: li.id.slice(6), name: li.dataset.name, status: "COMPLETED" }));
    }
  }
}

// ---- live status --------------------------------------------------------------------------------------------------
function connectLive() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}${api}/music-generator/ws?token=${encodeURIComponent(state.token)}`);
  state.socket = socket;
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "ready") {
      $("live").classList.add("on");
      $("live").textContent = "live";
      state.retry = 0;
    }
    if (message.type === "status") upsert(message.data);
  };
  socket.onclose = (event) => {
    $("live").classList.remove("on");
    $("live").textContent = "offline";
    if (state.socket !== socket) return;
    if (event.code === 4401) {  // the token was refused (expired or forged): ask for a new one
      askForToken("Your session has expired: paste a new token to go on.");
      return;
    }
    if (!state.poll) state.poll = setInterval(pollGenerating, 3000);  // fall back to the seed's polling
    // the server went away (1001 when it shuts down) or the network did: come back, more slowly each time
    state.retry = Math.min((state.retry || 0) + 1, 5);
    setTimeout(() => { if (state.token && state.socket === socket) connectLive(); }, 1000 * 2 ** state.retry);
  };
}

async function pollGenerating() {
  for (const li of document.querySelectorAll('li.track[data-status="GENERATING"]')) {
    try {
      upsert(await call(`/music-generator/status/${li.id.slice(6)}`));
    } catch (error) {
      return;  // unreachable: the banner says so and the next poll tries again
    }
  }
}

// ---- forms --------------------------------------------------------------------------------------------------------
function start() {
  $("signin-form").addEventListener("submit", (event) => { event.preventDefault(); signIn($("token").value); });
  $("signout").addEventListener("click", (event) => { event.preventDefault(); localStorage.removeItem("songy.token"); location.reload(); });
  $("more").addEventListener("click", () => loadMore().catch((error) => ($("library-error").textContent = error.message)));
  $("generate-form").addEventListener("submit", async (event) => {
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
      announce(`“${music.name}” is generating`);
      refreshCredits();
    } catch (error) {
      $("generate-error").textContent = error.message;
    } finally {
      $("generate").disabled = false;
    }
  });
  $("playlist-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("playlist-error").textContent = "";
    try {
      await call("/playlists", { method: "POST", body: JSON.stringify({ name: $("playlist-name").value }) });
      $("playlist-name").value = "";
      await refreshPlaylists();
    } catch (error) {
      $("playlist-error").textContent = error.message;
    }
  });
  if (state.token) signIn(state.token);
}

start();
