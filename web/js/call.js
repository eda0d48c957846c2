// The browser side of a consultation call: the device check, the waiting room, the call
// room (videos, captions, timer, controls, connection quality, chat), stepping down and back
// up on a weak link, and the offer to carry on as a written case when the sound fails.
//
// The consultation id comes from the URL (/call/<id> or ?consultation=<id>); the session is
// the HttpOnly cookie set at login, so no token is ever visible to this script. The server
// returns ICE servers and a one-time signaling URL. Every text comes from the catalogues
// (keys call.*) in the language the app would start in (i18n.js preferredLanguage).
//
// While the server's bus is away (Redis down) the signaling socket closes with 1013 "try
// again later" before the ticket is spent: the page says so and tries the same ticket again
// with a growing pause; a ticket that has expired meanwhile is replaced by a new one. A
// socket that drops otherwise (the network) is opened again with a new ticket; a media path
// that fails is restarted (ICE restart). A page refreshed during a call joins again at once
// (sessionStorage remembers the choice made on the device check).
//
// Peer-to-peer calls are a mesh: one RTCPeerConnection per other participant. Every pair
// uses perfect negotiation on its own: the newcomer offers, and on glare the polite side of
// that pair yields (the server says, per pair, which side is polite). Every message names
// its recipient ("to"). In relay mode the server's gateway is the one other side: our offer
// has room for three others (a slot each: an audio and a video transceiver), and a `slots`
// message says whose media each slot carries, so those tiles are captioned by name too.
//
// Up to four take part (the GP, the specialist, specialists it invited, the patient): each
// other participant is a tile captioned with their name and role (by user id, so two
// specialists are told apart), with the quality of the connection to them.
//
// Stepping down (call/steps.js, a pure function of getStats() samples) is decided per
// connection, from that connection's samples: lower resolution and bitrate first, then audio
// only (the video encoding is switched off; Opus keeps in-band FEC at a low bitrate), and back
// up when the link recovers. A thin link to one participant does not lower what the others
// receive. Each side tells that other its step over the signaling socket ({type: "step",
// to}), so both see it.

import { ApiError, get, patch, post } from "./api.js";
import {
  LANGUAGES,
  errorText,
  formatList,
  formatTime,
  language,
  preferredLanguage,
  setLanguage,
  t,
} from "./i18n.js";
import { sample } from "./call/stats.js";
import { fileTile } from "./files.js";
import { uploader } from "./upload.js";
import {
  AUDIO_ONLY,
  SAMPLE_SECONDS,
  STEPS,
  UP_SECONDS,
  audioLost,
  nextStep,
  opusForThinLinks,
  quality,
} from "./call/steps.js";

const $ = (id) => document.getElementById(id);
const statusEl = $("status");
const localVideo = $("local");
const remotes = $("remotes");

const GATEWAY = "gateway";
// Room for the three others of a call of four (participants.MAX_PEOPLE).
const RELAY_SLOTS = 3;
const ROLES = new Set(["gp", "specialist", "patient", "admin"]);
const TRY_AGAIN_LATER = 1013;
const RETRY_MAX_SECONDS = 30;
// A media path disconnected this long is restarted (ICE restart).
const RESTART_AFTER_MS = 3000;
// No sound from the others this long: offer the written case.
const SILENT_SECONDS = 6;
const SAMPLES_KEPT = 90;
// A step up that is undone within this many seconds did not hold: wait longer next time.
const UP_HELD_SECONDS = 20;
const UP_MAX_SECONDS = 64;
// ?steps=off keeps full video whatever the link (to measure what stepping down is worth:
// bench/weak_link.py).
const STEPPING = new URLSearchParams(location.search).get("steps") !== "off";

const roleName = (role) => (ROLES.has(role) ? t(`call.role.${role}`) : null);

const state = {
  id: null,
  call: null,
  ws: null,
  stream: null,
  mode: "p2p",
  me: null,
  myRole: null,
  names: {}, // role → full name (from the consultation)
  people: new Map(), // user id → full name
  myId: null,
  invited: [], // user ids of the specialists invited into the consultation
  consultation: null,
  peers: new Map(),
  retries: 0,
  left: false,
  pinger: null,
  audioOnly: false,
  muted: false,
  cameraOff: false,
  // Stepping: the highest step over our connections (each has its own: peer.step).
  step: 0,
  stepper: null,
  startedAt: null,
  ticker: null,
  meter: null,
  waitTimer: null,
  retell: null, // the status line's text, said again in a newly chosen language
  callOnly: false, // a session opened by a call link: this call only
};

function consultationId() {
  const fromQuery = new URLSearchParams(location.search).get("consultation");
  if (fromQuery) return fromQuery;
  const parts = location.pathname.split("/").filter(Boolean);
  return parts[0] === "call" ? parts[1] : null;
}

/**
 * The status line. `text` is a function giving the text in the current language, so a
 * language switch says the same status again in the new one (a plain string is kept as is).
 */
function show(text, phase) {
  state.retell = typeof text === "function" ? text : () => text;
  statusEl.textContent = state.retell();
  if (phase) document.body.dataset.callState = phase;
}

function send(message) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(message));
}

/**
 * "Dr Aigerim Sadykova, Specialist", or the role alone when the name is not known. With a
 * user id the name is that person's (two specialists share a role); without one, the
 * consultation's GP or specialist.
 */
function caption(role, userId) {
  const name = userId ? state.people.get(userId) : state.names[role];
  const what = roleName(role) || t("call.other_participant");
  return name ? t("call.caption", { name, role: what }) : what;
}

/** Whom this person waits for: the other clinicians (and the invited specialists). */
function awaited() {
  const c = state.consultation;
  const everyone = c
    ? [
        ["gp", c.requester_id],
        ["specialist", c.specialist_id],
        ...state.invited.map((id) => ["specialist", id]),
      ].filter(([, id]) => id && id !== state.myId)
    : ["gp", "specialist"].filter((r) => r !== state.myRole).map((r) => [r, null]);
  return formatList(everyone.map(([role, id]) => caption(role, id)));
}

/** Names of people not known yet (a participant who joined unannounced), then `done()`. */
async function learnNames(ids, done) {
  const missing = ids.filter((id) => id && !state.people.has(id));
  if (!missing.length) return;
  try {
    const found = await get("/people", { ids: missing.join(",") });
    for (const p of found.items || []) if (p.name) state.people.set(p.id, p.name);
    done();
  } catch {
    // Names are a courtesy: the roles still caption the videos.
  }
}

function showProgress() {
  const others = [...state.peers.values()].filter((p) => p.connected);
  if (others.length) {
    const names = formatList(
      others.map((p) => (p.id === GATEWAY ? t("call.other_side") : caption(p.role, p.userId))),
    );
    show(() => t("call.status.connected", { names }), "connected");
    startTimer();
  } else if (state.peers.size) {
    show(() => t("call.status.connecting"), "connecting");
  } else {
    show(() => t("call.status.waiting_for", { who: awaited() }), "waiting");
  }
}

// --- the timer -----------------------------------------------------------------------------------

function clock(seconds) {
  const s = Math.floor(seconds % 60);
  const m = Math.floor(seconds / 60) % 60;
  const h = Math.floor(seconds / 3600);
  const two = (n) => String(n).padStart(2, "0");
  return h ? `${h}:${two(m)}:${two(s)}` : `${two(m)}:${two(s)}`;
}

function startTimer() {
  if (state.ticker) return;
  state.startedAt = performance.now();
  const timer = $("timer");
  timer.hidden = false;
  const tick = () => {
    timer.textContent = clock((performance.now() - state.startedAt) / 1000);
  };
  tick();
  state.ticker = setInterval(tick, 1000);
}

// --- one other participant -----------------------------------------------------------------------

function makeTile(label) {
  const tile = document.createElement("figure");
  tile.className = "remote";
  const video = document.createElement("video");
  video.autoplay = true;
  video.playsInline = true;
  video.muted = true; // the sound plays through the audio element below
  video.setAttribute("aria-label", label);
  video.addEventListener("loadeddata", () => tile.classList.add("live"));
  const audio = document.createElement("audio");
  audio.autoplay = true;
  const name = document.createElement("figcaption");
  name.textContent = label;
  // The connection to this participant, in words (good, weak, audio only, no connection).
  const linkWord = document.createElement("p");
  linkWord.className = "link-quality";
  linkWord.hidden = true;
  tile.append(video, audio, name, linkWord);
  remotes.append(tile);
  return { tile, video, audio, name, linkWord };
}

function addPeer(id, role, polite, userId = null) {
  let peer = state.peers.get(id);
  if (peer) return peer;
  peer = {
    id,
    role,
    userId,
    polite,
    // This connection's step (steps.js), when it changed, and how long a step up waits.
    step: state.audioOnly ? AUDIO_ONLY : 0,
    changedAt: -Infinity,
    upSeconds: UP_SECONDS,
    upAt: -Infinity,
    pc: null,
    makingOffer: false,
    ignoreOffer: false,
    connected: false,
    tiles: [],
    samples: [],
    theirStep: 0,
    restart: null,
    // Through the gateway: whose media each slot carries ({peer_id, role, user_id} or null).
    slots: [],
  };
  state.peers.set(id, peer);
  return peer;
}

/** A tile's caption: the peer's, or through the gateway whoever its slot carries (`slots`). */
function peerLabel(peer, slot = 0) {
  const holder = peer.id === GATEWAY ? (peer.slots || [])[slot] : null;
  if (holder) return caption(holder.role, holder.user_id);
  return peer.id !== GATEWAY && peer.role ? caption(peer.role, peer.userId) : t("call.other_participant");
}

function tileOf(peer, slot) {
  while (peer.tiles.length <= slot) {
    const label = peerLabel(peer, peer.tiles.length);
    const made = makeTile(label);
    made.tile.dataset.peer = peer.id;
    peer.tiles.push(made);
  }
  return peer.tiles[slot];
}

function dropPeer(id) {
  const peer = state.peers.get(id);
  if (!peer) return;
  clearTimeout(peer.restart);
  if (peer.pc) peer.pc.close();
  for (const { tile } of peer.tiles) tile.remove();
  state.peers.delete(id);
  showProgress();
}

/** Put a connection's video (and audio) senders on `step` (steps.js STEPS). */
async function applyStep(pc, step) {
  const spec = STEPS[step];
  for (const sender of pc.getSenders()) {
    if (!sender.track) continue;
    const params = sender.getParameters();
    if (!params.encodings || !params.encodings.length) continue;
    for (const encoding of params.encodings) {
      if (sender.track.kind === "video") {
        encoding.active = spec.video && !state.cameraOff;
        encoding.scaleResolutionDownBy = spec.scale;
        if (spec.maxBitrate) encoding.maxBitrate = spec.maxBitrate;
      } else {
        encoding.maxBitrate = step >= AUDIO_ONLY ? 24000 : 40000;
      }
    }
    try {
      await sender.setParameters(params);
    } catch (err) {
      console.warn("setParameters", err);
    }
  }
}

/** Put one connection on `step`, and tell that participant. */
async function setStep(peer, step) {
  if (step === peer.step) return;
  const now = performance.now() / 1000;
  if (step > peer.step && now - peer.upAt < UP_HELD_SECONDS) {
    peer.upSeconds = Math.min(UP_MAX_SECONDS, peer.upSeconds * 2);
  } else if (step > peer.step) {
    peer.upSeconds = UP_SECONDS;
  }
  if (step < peer.step) peer.upAt = now;
  peer.step = step;
  peer.changedAt = now;
  if (peer.pc) await applyStep(peer.pc, step);
  send({ type: "step", step, to: peer.id === GATEWAY ? undefined : peer.id });
  showStep();
}

function showStep() {
  const note = $("step-note");
  const steps = [...state.peers.values()].map((p) => p.step);
  // The highest step over the connections (or the choice made before joining).
  const mine = steps.length ? Math.max(...steps) : state.audioOnly ? AUDIO_ONLY : 0;
  state.step = mine;
  document.body.dataset.step = String(mine);
  const theirs = Math.max(0, ...[...state.peers.values()].map((p) => p.theirStep || 0));
  const key = mine >= AUDIO_ONLY ? "call.step.mine_audio" : mine > 0 ? "call.step.mine_lower" : null;
  const theirKey = theirs >= AUDIO_ONLY ? "call.step.theirs_audio" : theirs > 0 ? "call.step.theirs_lower" : null;
  const texts = [key, theirKey].filter(Boolean).map((k) => t(k));
  note.hidden = !texts.length;
  note.textContent = texts.join(" ");
}

/** The connection to one participant in words, under their picture. */
function showLinkQuality(peer, latest) {
  const word = peer.connected ? quality(Math.max(peer.step, peer.theirStep || 0), latest) : "lost";
  for (const { linkWord } of peer.tiles) {
    linkWord.dataset.quality = word;
    linkWord.textContent = t("call.quality.link", { quality: t(`call.quality.${word}`) });
    linkWord.title = peer.connected && latest?.rtt != null ? t("call.quality.rtt", { ms: Math.round(latest.rtt * 1000) }) : "";
    linkWord.hidden = false;
  }
}

function showQuality(peer, latest) {
  const mine = $("quality-mine");
  const theirs = $("quality-theirs");
  const myWord = peer.connected ? quality(peer.step, latest) : "lost";
  const theirWord = peer.connected ? quality(peer.theirStep || 0, latest) : "lost";
  mine.dataset.quality = myWord;
  mine.textContent = t(`call.quality.${myWord}`);
  theirs.dataset.quality = theirWord;
  theirs.textContent = t(`call.quality.${theirWord}`);
  const details = [];
  if (latest?.rtt != null) details.push(t("call.quality.rtt", { ms: Math.round(latest.rtt * 1000) }));
  if (latest?.loss != null) details.push(t("call.quality.loss", { percent: Math.round(latest.loss * 100) }));
  if (latest?.sending != null) details.push(t("call.quality.bitrate", { kbps: Math.round(latest.sending / 1000) }));
  mine.title = details.join(", ");
}

/** Every SAMPLE_SECONDS, for each connection: read its stats, decide its step; then watch
 * the others' sound. */
async function measure() {
  const peers = [...state.peers.values()].filter((p) => p.pc);
  let worst = null;
  for (const peer of peers) {
    let latest;
    try {
      const previous = peer.samples[peer.samples.length - 1];
      latest = await sample(peer.pc, previous);
      peer.samples.push(latest);
      if (peer.samples.length > SAMPLES_KEPT) peer.samples.shift();
    } catch (err) {
      console.warn("stats", err);
      continue;
    }
    // A step up that held: the next one need not wait longer.
    if (peer.upAt === peer.changedAt && performance.now() / 1000 - peer.upAt > UP_HELD_SECONDS) {
      peer.upSeconds = UP_SECONDS;
    }
    const decided = nextStep(peer.samples, peer.step, peer.changedAt, peer.upSeconds);
    const step = state.audioOnly ? AUDIO_ONLY : STEPPING ? decided : 0;
    if (peer.connected) await setStep(peer, step);
    showLinkQuality(peer, latest);
    if (!worst || peer.step > worst.peer.step || (!worst.peer.connected && peer.connected)) {
      worst = { peer, latest };
    }
  }
  if (!worst) return;
  showQuality(worst.peer, worst.latest);
  // The others' sound: packets received over the last seconds.
  const silent = peers.some(
    (p) =>
      p.everHeard &&
      audioLost(
        p.samples.map((s) => ({ at: s.at, packets: s.audioPackets })),
        SILENT_SECONDS,
      ),
  );
  for (const p of peers) if (p.samples.length && p.samples[p.samples.length - 1].audioPackets > 0) p.everHeard = true;
  offerAsync(silent);
}

function offerAsync(silent) {
  const box = $("offer-async");
  if (!["gp", "specialist"].includes(state.myRole) || box.dataset.done) return;
  box.hidden = !silent;
}

function watchConnection(peer, pc) {
  const s = pc.connectionState;
  peer.connected = s === "connected";
  clearTimeout(peer.restart);
  if (s === "failed") {
    show(() => t("call.status.failed"), "reconnecting");
    if (state.mode === "p2p") pc.restartIce();
    return;
  }
  if (s === "disconnected") {
    show(() => t("call.status.reconnecting"), "reconnecting");
    peer.restart = setTimeout(() => {
      if (pc.connectionState !== "connected" && state.mode === "p2p") pc.restartIce();
    }, RESTART_AFTER_MS);
    return;
  }
  if (s === "connected") applyStep(pc, peer.step);
  showProgress();
}

function connect(peer) {
  const pc = new RTCPeerConnection({
    iceServers: state.call.ice_servers,
    ...(state.call.ice_transport_policy ? { iceTransportPolicy: state.call.ice_transport_policy } : {}),
  });
  peer.pc = pc;
  const relay = peer.id === GATEWAY;
  const to = relay ? undefined : peer.id;
  for (const track of state.stream.getTracks()) pc.addTrack(track, state.stream);
  if (relay) {
    for (let i = 1; i < RELAY_SLOTS; i += 1) {
      pc.addTransceiver("audio", { direction: "recvonly" });
      pc.addTransceiver("video", { direction: "recvonly" });
    }
  }

  pc.ontrack = ({ track, transceiver }) => {
    const sameKind = pc.getTransceivers().filter((x) => x.receiver.track.kind === track.kind);
    const { tile, video, audio } = tileOf(peer, Math.max(0, sameKind.indexOf(transceiver)));
    const stream = new MediaStream([track]);
    if (track.kind === "video") {
      track.onmute = () => tile.classList.remove("live");
      track.onunmute = () => {
        if (video.readyState >= 2) tile.classList.add("live");
      };
      video.srcObject = stream;
      video.play().catch(() => {});
    } else {
      audio.srcObject = stream;
      audio.play().catch(() => show(() => t("call.status.click_to_hear")));
    }
  };
  pc.onicecandidate = ({ candidate }) => {
    send({ type: "candidate", candidate: candidate ? candidate.toJSON() : null, to });
  };
  pc.onnegotiationneeded = async () => {
    try {
      peer.makingOffer = true;
      await pc.setLocalDescription();
      send({ type: "offer", sdp: pc.localDescription.sdp, to });
    } catch (err) {
      console.warn("offer failed", err);
    } finally {
      peer.makingOffer = false;
    }
  };
  pc.onconnectionstatechange = () => watchConnection(peer, pc);
  return pc;
}

async function onDescription(message) {
  const from = state.mode === "relay" ? GATEWAY : message.from;
  let peer = state.peers.get(from);
  if (!peer) {
    if (message.type !== "offer" || !from) return;
    peer = addPeer(from, null, state.me > from);
  }
  const pc = peer.pc || connect(peer);
  // Our sender follows what the other side's description asks for: Opus with in-band FEC
  // at a low average bitrate, whatever the link.
  const description = { type: message.type, sdp: opusForThinLinks(message.sdp) };
  const collision = description.type === "offer" && (peer.makingOffer || pc.signalingState !== "stable");
  peer.ignoreOffer = !peer.polite && collision;
  if (peer.ignoreOffer) return;
  await pc.setRemoteDescription(description);
  if (description.type === "offer") {
    await pc.setLocalDescription();
    send({ type: "answer", sdp: pc.localDescription.sdp, to: message.from });
  }
}

async function onCandidate(message) {
  const peer = state.peers.get(state.mode === "relay" ? GATEWAY : message.from);
  if (!peer || !peer.pc) return;
  try {
    await peer.pc.addIceCandidate(message.candidate || undefined);
  } catch (err) {
    if (!peer.ignoreOffer) console.warn("candidate refused", err);
  }
}

// --- signaling -----------------------------------------------------------------------------------

async function onMessage(message) {
  switch (message.type) {
    case "welcome":
      state.me = message.peer_id;
      state.mode = message.mode;
      // A new socket (after a drop): the connections start again with the new ids.
      for (const id of [...state.peers.keys()]) dropPeer(id);
      if (state.mode === "relay") {
        connect(addPeer(GATEWAY, null, true));
        show(() => t("call.status.relay"), "connecting");
        break;
      }
      for (const other of message.peers) {
        const polite = other.polite ?? state.me > other.peer_id;
        connect(addPeer(other.peer_id, other.role, polite, other.user_id));
      }
      showProgress();
      for (const peer of state.peers.values()) if (peer.step) send({ type: "step", step: peer.step, to: peer.id });
      learnNames(
        message.peers.map((p) => p.user_id),
        renameTiles,
      );
      break;
    case "peer-joined": {
      if (state.mode !== "p2p") break;
      // The same person again (a refresh whose goodbye has not arrived): the old one goes.
      for (const peer of state.peers.values()) {
        if (message.user_id && peer.userId === message.user_id && peer.id !== message.peer_id) dropPeer(peer.id);
      }
      const peer = addPeer(message.peer_id, message.role, message.polite ?? state.me > message.peer_id, message.user_id);
      show(() => t("call.status.joined", { who: caption(message.role, message.user_id) }), "connecting");
      if (peer.step) send({ type: "step", step: peer.step, to: message.peer_id });
      learnNames([message.user_id], renameTiles);
      break;
    }
    case "peer-left":
      if (state.mode === "p2p") dropPeer(message.peer_id);
      break;
    case "slots": {
      // Through the gateway: whose media each of our slots carries now.
      const gateway = state.peers.get(GATEWAY);
      if (state.mode !== "relay" || !gateway || !Array.isArray(message.slots)) break;
      gateway.slots = message.slots;
      gateway.tiles.forEach(({ tile, video }, slot) => {
        if (!message.slots[slot]) {
          // Its participant left: no frozen picture of them stays on the screen.
          tile.classList.remove("live");
        } else if (!tile.classList.contains("live") && video.requestVideoFrameCallback) {
          // Someone (else) fills it: shown from their first frame.
          video.requestVideoFrameCallback(() => {
            if ((gateway.slots || [])[slot]) tile.classList.add("live");
          });
        }
      });
      renameTiles();
      learnNames(
        message.slots.map((h) => h && h.user_id),
        renameTiles,
      );
      break;
    }
    case "offer":
    case "answer":
      await onDescription(message);
      break;
    case "candidate":
      await onCandidate(message);
      break;
    case "step": {
      const peer = state.peers.get(state.mode === "relay" ? GATEWAY : message.from) || [...state.peers.values()][0];
      if (peer) peer.theirStep = message.step;
      showStep();
      break;
    }
    case "chat":
      addChat(message.message);
      break;
    case "bye":
      if (state.mode === "p2p") dropPeer(message.from);
      break;
    case "error":
      console.warn("signaling error", message.error, message.detail);
      if (message.error === "replaced") {
        state.left = true;
        show(() => t("call.status.replaced"), "ended");
      } else if (message.error === "call_full") {
        state.left = true;
        sessionStorage.removeItem(`call:${state.id}`);
        show(() => t("call.status.full"), "ended");
      }
      break;
  }
}

function translatePage() {
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-label]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nLabel));
  }
}

// --- the language switch -------------------------------------------------------------------------

/** The header's switch: every language by its own name. */
function languageSwitch() {
  const control = $("language");
  control.replaceChildren(
    ...Object.entries(LANGUAGES).map(([code, name]) => {
      const option = document.createElement("option");
      option.value = code;
      option.lang = code;
      option.textContent = name;
      return option;
    }),
  );
  control.value = language();
  control.addEventListener("change", () => chooseLanguage(control.value));
}

/**
 * A language chosen in the header: the page speaks it at once, the browser remembers it, and a
 * signed-in account stores it as the app's switch does (a session opened by a call link may
 * not change the account: the browser alone remembers).
 */
async function chooseLanguage(code) {
  if (code === language()) return;
  await speak(code);
  if (state.myId && !state.callOnly) {
    try {
      await patch("/me", { language: code });
    } catch (err) {
      console.warn("language not stored on the account", err?.status);
    }
  }
}

/** Everything on the page again in `code`: the static texts, the status and what was drawn. */
async function speak(code) {
  await setLanguage(code);
  translatePage();
  $("language").value = language();
  if (state.retell) statusEl.textContent = state.retell();
  if (!$("waiting-for").hidden) showWaitingRoom();
  $("mute").textContent = t(state.muted ? "call.unmute" : "call.mute");
  $("camera").textContent = t(state.cameraOff ? "call.camera_on" : "call.camera_off");
  if ($("room").hidden) return;
  $("self-caption").textContent = t("call.you_caption", { role: roleName(state.myRole) || t("call.you") });
  for (const peer of state.peers.values()) {
    for (const [slot, { video, name, linkWord }] of peer.tiles.entries()) {
      const label = peerLabel(peer, slot);
      name.textContent = label;
      video.setAttribute("aria-label", label);
      if (!linkWord.hidden) {
        const word = t(`call.quality.${linkWord.dataset.quality}`);
        linkWord.textContent = t("call.quality.link", { quality: word });
      }
    }
  }
  for (const id of ["quality-mine", "quality-theirs"]) {
    const word = $(id);
    if (word.textContent) word.textContent = t(`call.quality.${word.dataset.quality}`);
  }
  showStep();
  if ($("offer-async").dataset.done) $("async-result").textContent = t("call.async.done");
}

function mediaProblem(err) {
  if (err?.name === "NotAllowedError" || err?.name === "SecurityError") return t("call.media.denied");
  if (err?.name === "NotFoundError" || err?.name === "OverconstrainedError") return t("call.media.missing");
  return t("call.media.unavailable");
}

/** A new one-time ticket (and the ICE servers); "closed" while the call is not open yet. */
async function ticket() {
  try {
    state.call = await get(`/consultations/${encodeURIComponent(state.id)}/call`);
  } catch (err) {
    if (err instanceof ApiError && err.code === "call_not_open") return "closed";
    show(() => err instanceof ApiError ? errorText(err) : t("error.status.500"), "error");
    return "error";
  }
  state.mode = state.call.mode;
  return "ok";
}

// --- before joining ------------------------------------------------------------------------------

async function loadConsultation() {
  try {
    const c = await get(`/consultations/${encodeURIComponent(state.id)}`);
    state.consultation = c;
    try {
      const invited = await get(`/consultations/${encodeURIComponent(state.id)}/participants`);
      state.invited = (invited.items || []).map((p) => p.user_id);
    } catch {
      state.invited = [];
    }
    const ids = [c.requester_id, c.specialist_id, ...state.invited].filter(Boolean);
    try {
      const found = await get("/people", { ids: ids.join(",") });
      for (const p of found.items || []) {
        const name = p.full_name || p.name;
        if (name) state.people.set(p.id, name);
        if (p.id === c.requester_id) state.names.gp = name;
        if (p.id === c.specialist_id) state.names.specialist = name;
      }
    } catch {
      // Names are a courtesy: the roles still caption the videos.
    }
  } catch {
    state.consultation = null;
  }
}

/** Captions again once names have arrived. */
function renameTiles() {
  for (const peer of state.peers.values()) {
    for (const [slot, { video, name }] of peer.tiles.entries()) {
      const label = peerLabel(peer, slot);
      name.textContent = label;
      video.setAttribute("aria-label", label);
    }
  }
  showProgress();
}

async function getMedia() {
  try {
    state.stream = await navigator.mediaDevices.getUserMedia({
      video: { width: 640, height: 480 },
      audio: { echoCancellation: true, noiseSuppression: true },
    });
    return true;
  } catch (err) {
    const problem = $("check-problem");
    problem.textContent = mediaProblem(err);
    problem.hidden = false;
    show(() => mediaProblem(err), "error");
    return false;
  }
}

/** The microphone's level on the meter (an analyser, sampled on animation frames). */
function meterOn(stream) {
  const meter = $("mic-level");
  const tracks = stream.getAudioTracks();
  if (!tracks.length || !window.AudioContext) return;
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  analyser.fftSize = 512;
  context.createMediaStreamSource(new MediaStream(tracks)).connect(analyser);
  const data = new Uint8Array(analyser.fftSize);
  const loop = () => {
    if (!state.meter) return;
    analyser.getByteTimeDomainData(data);
    let peak = 0;
    for (const v of data) peak = Math.max(peak, Math.abs(v - 128) / 128);
    meter.value = peak;
    requestAnimationFrame(loop);
  };
  state.meter = context;
  loop();
}

// The speaker check: a short tone through the speaker, its level on the meter as it plays.
const TONE_SECONDS = 2;

function speakerTest() {
  const button = $("speaker-test");
  const meter = $("speaker-level");
  if (!window.AudioContext || button.getAttribute("aria-pressed") === "true") return;
  const context = new AudioContext();
  const tone = context.createOscillator();
  tone.frequency.value = 440;
  const gain = context.createGain();
  gain.gain.value = 0.25;
  const analyser = context.createAnalyser();
  analyser.fftSize = 512;
  tone.connect(gain).connect(analyser).connect(context.destination);
  const data = new Uint8Array(analyser.fftSize);
  let playing = true;
  const loop = () => {
    if (!playing) return;
    analyser.getByteTimeDomainData(data);
    let peak = 0;
    for (const v of data) peak = Math.max(peak, Math.abs(v - 128) / 128);
    meter.value = peak;
    requestAnimationFrame(loop);
  };
  button.setAttribute("aria-pressed", "true");
  tone.onended = () => {
    playing = false;
    meter.value = 0;
    button.setAttribute("aria-pressed", "false");
    context.close().catch(() => {});
  };
  context.resume().catch(() => {});
  tone.start();
  tone.stop(context.currentTime + TONE_SECONDS);
  loop();
}

$("speaker-test").addEventListener("click", speakerTest);

function meterOff() {
  if (state.meter) state.meter.close().catch(() => {});
  state.meter = null;
}

function showWaitingRoom() {
  const c = state.consultation;
  const waiting = $("waiting-for");
  waiting.textContent = t("call.check.waiting_for", { who: awaited() });
  waiting.hidden = false;
  const opens = $("opens-at");
  if (c?.call_opens_at && new Date(c.call_opens_at) > new Date()) {
    opens.textContent = t("call.check.opens_at", { time: formatTime(c.call_opens_at) });
    opens.hidden = false;
  } else {
    opens.hidden = true;
  }
}

/** Before the call opens: say whom we wait for and when it opens; resolve once it is open. */
async function waitUntilOpen() {
  const opens = state.consultation?.call_opens_at ? new Date(state.consultation.call_opens_at) : null;
  if (!opens || opens <= new Date()) return;
  $("check").hidden = false;
  $("join").disabled = true;
  showWaitingRoom();
  show(() => t("call.status.not_open"), "not-open");
  await new Promise((resolve) => {
    const look = () => (new Date() >= opens ? resolve() : setTimeout(look, 5000));
    look();
  });
  $("join").disabled = false;
}

async function joinClicked() {
  const button = $("join");
  button.disabled = true;
  state.audioOnly = $("audio-only").checked;
  const result = await ticket();
  if (result === "closed") {
    // The waiting room: try again until the call opens.
    showWaitingRoom();
    $("opens-at").hidden = false;
    if (!$("opens-at").textContent) $("opens-at").textContent = t("call.check.not_open");
    show(() => t("call.status.not_open"), "not-open");
    clearTimeout(state.waitTimer);
    state.waitTimer = setTimeout(joinClicked, 15000);
    return;
  }
  if (result !== "ok") {
    button.disabled = false;
    return;
  }
  sessionStorage.setItem(`call:${state.id}`, JSON.stringify({ audioOnly: state.audioOnly }));
  enterRoom();
}

function enterRoom() {
  meterOff();
  $("check").hidden = true;
  $("room").hidden = false;
  $("self-caption").textContent = t("call.you_caption", { role: roleName(state.myRole) || t("call.you") });
  localVideo.srcObject = state.stream;
  if (state.audioOnly) showStep();
  signal(state.call.ws_url);
  state.pinger = setInterval(() => send({ type: "ping" }), 20000);
  state.stepper = setInterval(() => measure().catch((err) => console.warn("measure", err)), SAMPLE_SECONDS * 1000);
  loadChat();
}

async function start() {
  await setLanguage(preferredLanguage());
  translatePage();
  languageSwitch();
  state.id = consultationId();
  if (!state.id) {
    show(() => t("call.status.no_consultation"), "error");
    return;
  }
  $("back").href = "/";
  const link = new URLSearchParams(location.hash.slice(1)).get("link");
  if (link) {
    // The one-time link from the SMS: it opens a session for this call only, once.
    history.replaceState(null, "", location.pathname + location.search);
    sessionStorage.setItem(`call-link:${state.id}`, "1");
    try {
      await post(`/consultations/${encodeURIComponent(state.id)}/call-link`, { token: link });
    } catch (err) {
      show(() => err instanceof ApiError ? errorText(err) : t("error.status.500"), "error");
      return;
    }
  }
  // A session opened by a call link reaches this call only: no way back into the app.
  state.callOnly = Boolean(sessionStorage.getItem(`call-link:${state.id}`));
  $("back").hidden = state.callOnly;
  try {
    const me = await get("/me");
    state.myRole = me.role;
    state.myId = me.id;
    // The account's language wins over the browser's, as in the app.
    if (me.language in LANGUAGES && me.language !== language()) await speak(me.language);
  } catch {
    state.myRole = null;
  }
  await loadConsultation();
  // The camera stays off until the call opens: until then, the waiting room without it.
  await waitUntilOpen();
  if (!(await getMedia())) {
    $("check").hidden = false;
    $("join").disabled = true;
    return;
  }
  const remembered = sessionStorage.getItem(`call:${state.id}`);
  if (remembered) {
    // A refresh during the call: join again straight away, as chosen before.
    try {
      state.audioOnly = Boolean(JSON.parse(remembered).audioOnly);
    } catch {
      state.audioOnly = false;
    }
    if ((await ticket()) === "ok") {
      enterRoom();
      return;
    }
  }
  $("check").hidden = false;
  $("preview").srcObject = state.stream;
  meterOn(state.stream);
  showWaitingRoom();
  show(() => t("call.status.check"), "check");
}

/** Open the signaling socket; on 1013 try the same ticket again after a growing pause. */
function signal(url) {
  const ws = new WebSocket(url);
  state.ws = ws;
  let welcomed = false;
  let queue = Promise.resolve();
  ws.onmessage = (event) => {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    if (message.type === "welcome") {
      welcomed = true;
      state.retries = 0;
    }
    queue = queue.then(() => onMessage(message)).catch((err) => console.warn(message.type, err));
  };
  ws.onclose = async (event) => {
    if (state.left || ws !== state.ws) return;
    if (event.code === TRY_AGAIN_LATER) {
      const seconds = Math.min(RETRY_MAX_SECONDS, 2 ** state.retries);
      state.retries += 1;
      show(() => t("call.status.retrying", { seconds }), "retrying");
      setTimeout(() => {
        if (!state.left) signal(url);
      }, seconds * 1000);
      return;
    }
    if (event.code === 4001) return; // replaced by another window
    // Dropped (or refused while we waited): a new ticket, a new socket.
    show(() => t("call.status.reconnecting"), "reconnecting");
    const seconds = welcomed ? 1 : Math.min(RETRY_MAX_SECONDS, 2 ** Math.max(1, state.retries));
    state.retries += 1;
    setTimeout(async () => {
      if (state.left) return;
      if ((await ticket()) === "ok") signal(state.call.ws_url);
      else if (!state.left) show(() => t("call.status.disconnected"), "ended");
    }, seconds * 1000);
  };
}

// --- chat ----------------------------------------------------------------------------------------

const chatSeen = new Set();

function addChat(m) {
  if (!m || chatSeen.has(m.id)) return;
  chatSeen.add(m.id);
  const item = document.createElement("li");
  const who = document.createElement("span");
  who.className = "who";
  const mine = m.mine || (m.author_id ? m.author_id === state.myId : m.author_role === state.myRole);
  who.textContent = mine ? t("call.chat.you") : caption(m.author_role, m.author_id);
  const when = document.createElement("time");
  when.dateTime = m.created_at;
  when.textContent = formatTime(m.created_at);
  item.append(who, " ", when);
  if (m.text) {
    const body = document.createElement("p");
    body.textContent = m.text;
    item.append(body);
  }
  // A file sent in the chat: its thumbnail (or name), opened in place.
  if (m.file) item.append(fileTile(m.file));
  $("chat-log").append(item);
  item.scrollIntoView({ block: "nearest" });
}

// GPs and specialists send files (uploaded with a progress bar, then posted as a message).
function chatAttach() {
  if (!["gp", "specialist"].includes(state.myRole) || $("chat-attach").childElementCount) return;
  const files = uploader({
    label: t("call.chat.attach"),
    id: "chat-file",
    onUploaded: async (file) =>
      addChat(await post(`/consultations/${encodeURIComponent(state.id)}/chat`, { file_id: file.id })),
  });
  $("chat-attach").append(files.element);
  $("chat-attach").hidden = false;
}

async function loadChat() {
  chatAttach();
  try {
    const page = await get(`/consultations/${encodeURIComponent(state.id)}/chat`);
    for (const m of page.items) addChat(m);
  } catch (err) {
    console.warn("chat", err);
  }
}

$("chat-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("chat-text");
  const problem = $("chat-problem");
  const text = input.value.trim();
  if (!text) return;
  try {
    const m = await post(`/consultations/${encodeURIComponent(state.id)}/chat`, { text });
    input.value = "";
    problem.hidden = true;
    addChat(m);
  } catch (err) {
    problem.textContent = err instanceof ApiError ? errorText(err) : t("error.status.500");
    problem.hidden = false;
  }
});

// --- controls ------------------------------------------------------------------------------------

$("mute").addEventListener("click", () => {
  state.muted = !state.muted;
  for (const track of state.stream?.getAudioTracks() || []) track.enabled = !state.muted;
  const button = $("mute");
  button.setAttribute("aria-pressed", String(state.muted));
  button.textContent = t(state.muted ? "call.unmute" : "call.mute");
});

$("camera").addEventListener("click", () => {
  state.cameraOff = !state.cameraOff;
  for (const track of state.stream?.getVideoTracks() || []) track.enabled = !state.cameraOff;
  const button = $("camera");
  button.setAttribute("aria-pressed", String(state.cameraOff));
  button.textContent = t(state.cameraOff ? "call.camera_on" : "call.camera_off");
});

$("join").addEventListener("click", joinClicked);

$("to-async").addEventListener("click", async () => {
  const result = $("async-result");
  try {
    await post(`/consultations/${encodeURIComponent(state.id)}/to-async`, {});
    $("offer-async").dataset.done = "1";
    result.textContent = t("call.async.done");
    $("to-async").disabled = true;
  } catch (err) {
    result.textContent = err instanceof ApiError ? errorText(err) : t("error.status.500");
  }
  result.hidden = false;
});

$("hangup").addEventListener("click", () => {
  state.left = true;
  sessionStorage.removeItem(`call:${state.id}`);
  send({ type: "bye" });
  for (const id of [...state.peers.keys()]) dropPeer(id);
  for (const timer of [state.pinger, state.stepper, state.ticker]) if (timer) clearInterval(timer);
  if (state.ws) state.ws.close();
  if (state.stream) state.stream.getTracks().forEach((track) => track.stop());
  show(() => t("call.status.left"), "ended");
});

document.addEventListener("click", () => {
  for (const peer of state.peers.values()) {
    for (const { audio } of peer.tiles) audio.play().catch(() => {});
  }
});

start();
