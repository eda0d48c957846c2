// The browser side of a consultation call.
//
// The consultation id comes from the URL (/call/<id> or ?consultation=<id>); the session is
// the HttpOnly cookie set at login, so no token is ever visible to this script. The server
// returns ICE servers and a one-time signaling URL. Every text comes from the catalogues
// (keys call.*) in the language the app would start in (i18n.js preferredLanguage).
//
// While the server's bus is away (Redis down) the signaling socket closes with 1013 "try
// again later" before the ticket is spent: the page says so and tries the same ticket again
// with a growing pause; a ticket that has expired meanwhile is replaced by a new one.
//
// Peer-to-peer calls are a mesh: one RTCPeerConnection per other participant (the GP, the
// specialist and, when invited, the patient: at most two connections each). Every pair uses
// perfect negotiation on its own: the newcomer offers, and on glare the polite side of that
// pair yields (the server says, per pair, which side is polite). Every message names its
// recipient ("to"). In relay mode the server's gateway is the one other side: our offer has
// room for two others (a slot each: an audio and a video transceiver), and the gateway
// fills the slots with the others' media.

import { ApiError, get } from "./api.js";
import { errorText, formatList, preferredLanguage, setLanguage, t } from "./i18n.js";

const statusEl = document.getElementById("status");
const localVideo = document.getElementById("local");
const remotes = document.getElementById("remotes");

const GATEWAY = "gateway";
// Other participants a relay connection has room for: the GP, the specialist and the
// invited patient make three.
const RELAY_SLOTS = 2;
const ROLES = new Set(["gp", "specialist", "patient", "admin"]);
// RFC 6455 1013: a service the server needs is away; the same ticket works again later.
const TRY_AGAIN_LATER = 1013;
const RETRY_MAX_SECONDS = 30;

/** A participant's role as the page names it ("GP"), or null for an unknown role. */
const roleName = (role) => (ROLES.has(role) ? t(`call.role.${role}`) : null);

const state = {
  call: null,
  ws: null,
  stream: null,
  mode: "p2p",
  me: null,
  // peer id → { id, role, polite, pc, makingOffer, ignoreOffer, connected, tiles }
  peers: new Map(),
  // Signaling attempts refused with 1013 in a row (the pause grows with them).
  retries: 0,
  left: false,
  pinger: null,
};

function consultationId() {
  const fromQuery = new URLSearchParams(location.search).get("consultation");
  if (fromQuery) return fromQuery;
  const parts = location.pathname.split("/").filter(Boolean);
  return parts[0] === "call" ? parts[1] : null;
}

function show(text, phase) {
  statusEl.textContent = text;
  if (phase) document.body.dataset.callState = phase;
}

function send(message) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(message));
}

function showProgress() {
  const connected = [...state.peers.values()].filter((p) => p.connected).length;
  if (connected) {
    const others = [...state.peers.values()].filter((p) => p.connected);
    const names = formatList(others.map((p) => roleName(p.role) || t("call.other_side")));
    show(t("call.status.connected", { names }), "connected");
  } else if (state.peers.size) {
    show(t("call.status.connecting"), "connecting");
  } else {
    show(t("call.status.waiting"), "waiting");
  }
}

// --- one other participant -------------------------------------------------------------------

function makeTile(label) {
  const tile = document.createElement("figure");
  tile.className = "remote";
  const video = document.createElement("video");
  video.autoplay = true;
  video.playsInline = true;
  video.muted = true; // the sound plays through the audio element below
  video.setAttribute("aria-label", label);
  // Shown once pictures arrive (a relay slot may stay empty).
  video.addEventListener("loadeddata", () => tile.classList.add("live"));
  const audio = document.createElement("audio");
  audio.autoplay = true;
  const caption = document.createElement("figcaption");
  caption.textContent = label;
  tile.append(video, audio, caption);
  remotes.append(tile);
  return { tile, video, audio };
}

function addPeer(id, role, polite) {
  let peer = state.peers.get(id);
  if (peer) return peer;
  peer = {
    id,
    role,
    polite,
    pc: null,
    makingOffer: false,
    ignoreOffer: false,
    connected: false,
    tiles: [],
  };
  state.peers.set(id, peer);
  return peer;
}

function tileOf(peer, slot) {
  while (peer.tiles.length <= slot) {
    const label = (peer.id !== GATEWAY && roleName(peer.role)) || t("call.other_participant");
    const made = makeTile(label);
    made.tile.dataset.peer = peer.id;
    peer.tiles.push(made);
  }
  return peer.tiles[slot];
}

function dropPeer(id) {
  const peer = state.peers.get(id);
  if (!peer) return;
  if (peer.pc) peer.pc.close();
  for (const { tile } of peer.tiles) tile.remove();
  state.peers.delete(id);
  showProgress();
}

function connect(peer) {
  const pc = new RTCPeerConnection({ iceServers: state.call.ice_servers });
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
    // The n-th transceiver of a kind is slot n: one other participant's audio and video.
    const sameKind = pc.getTransceivers().filter((t) => t.receiver.track.kind === track.kind);
    const { tile, video, audio } = tileOf(peer, Math.max(0, sameKind.indexOf(transceiver)));
    const stream = new MediaStream([track]);
    if (track.kind === "video") {
      // A slot whose participant left stops receiving: hide it until pictures come back.
      track.onmute = () => tile.classList.remove("live");
      track.onunmute = () => {
        if (video.readyState >= 2) tile.classList.add("live");
      };
    }
    if (track.kind === "video") {
      video.srcObject = stream;
      video.play().catch(() => {});
    } else {
      audio.srcObject = stream;
      audio.play().catch(() => show(t("call.status.click_to_hear")));
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
      console.error("offer failed", err);
    } finally {
      peer.makingOffer = false;
    }
  };
  pc.onconnectionstatechange = () => {
    const s = pc.connectionState;
    peer.connected = s === "connected";
    if (s === "failed") {
      show(t("call.status.failed"), "failed");
      if (state.mode === "p2p") pc.restartIce();
      return;
    }
    showProgress();
  };
  return pc;
}

async function onDescription(message) {
  const from = state.mode === "relay" ? GATEWAY : message.from;
  let peer = state.peers.get(from);
  if (!peer) {
    if (message.type !== "offer" || !from) return;
    // An offer from someone not announced yet: the ids settle who is polite.
    peer = addPeer(from, null, state.me > from);
  }
  const pc = peer.pc || connect(peer);
  const description = { type: message.type, sdp: message.sdp };
  const collision = description.type === "offer" && (peer.makingOffer || pc.signalingState !== "stable");
  peer.ignoreOffer = !peer.polite && collision;
  if (peer.ignoreOffer) return;
  await pc.setRemoteDescription(description); // a polite peer rolls back implicitly
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

// --- signaling -------------------------------------------------------------------------------

async function onMessage(message) {
  switch (message.type) {
    case "welcome":
      state.me = message.peer_id;
      state.mode = message.mode;
      if (state.mode === "relay") {
        connect(addPeer(GATEWAY, null, true));
        show(t("call.status.relay"), "connecting");
        break;
      }
      // The newcomer offers to everyone already there.
      for (const other of message.peers) {
        const polite = other.polite ?? state.me > other.peer_id;
        connect(addPeer(other.peer_id, other.role, polite));
      }
      showProgress();
      break;
    case "peer-joined":
      if (state.mode !== "p2p") break;
      // The same person on a new connection replaces their old one.
      for (const peer of state.peers.values()) {
        if (peer.role === message.role && peer.id !== message.peer_id) dropPeer(peer.id);
      }
      // They offer to us; we wait for it.
      addPeer(message.peer_id, message.role, message.polite ?? state.me > message.peer_id);
      show(t("call.status.joined", { who: roleName(message.role) || t("call.someone") }), "connecting");
      break;
    case "peer-left":
      if (state.mode === "p2p") dropPeer(message.peer_id);
      break;
    case "offer":
    case "answer":
      await onDescription(message);
      break;
    case "candidate":
      await onCandidate(message);
      break;
    case "bye":
      if (state.mode === "p2p") dropPeer(message.from);
      break;
    case "error":
      console.warn("signaling error", message.error, message.detail);
      if (message.error === "replaced") show(t("call.status.replaced"), "ended");
      break;
  }
}

/** The texts of call.html, in the chosen language (data-i18n, data-i18n-label). */
function translatePage() {
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-label]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nLabel));
  }
}

function mediaProblem(err) {
  if (err?.name === "NotAllowedError" || err?.name === "SecurityError") return t("call.media.denied");
  if (err?.name === "NotFoundError" || err?.name === "OverconstrainedError") return t("call.media.missing");
  return t("call.media.unavailable");
}

/** A new one-time ticket (and the ICE servers) for the call. */
async function join(id) {
  try {
    state.call = await get(`/consultations/${encodeURIComponent(id)}/call`);
  } catch (err) {
    show(err instanceof ApiError ? errorText(err) : t("error.status.500"), "error");
    return false;
  }
  state.mode = state.call.mode;
  return true;
}

async function start() {
  await setLanguage(preferredLanguage());
  translatePage();
  const id = consultationId();
  if (!id) {
    show(t("call.status.no_consultation"), "error");
    return;
  }
  // The camera stays off until the server lets this person into the call (it opens 15
  // minutes before its time): ask for the call first, then for the camera.
  if (!(await join(id))) return;
  try {
    state.stream = await navigator.mediaDevices.getUserMedia({
      video: { width: 640, height: 480 },
      audio: true,
    });
  } catch (err) {
    show(mediaProblem(err), "error");
    return;
  }
  localVideo.srcObject = state.stream;
  signal(id, state.call.ws_url);
  state.pinger = setInterval(() => send({ type: "ping" }), 20000);
}

/** Open the signaling socket; on 1013 try the same ticket again after a growing pause. */
function signal(id, url) {
  const ws = new WebSocket(url);
  state.ws = ws;
  let welcomed = false;
  // Messages are handled one at a time, in order: a description must be applied before the
  // candidates that follow it.
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
    queue = queue.then(() => onMessage(message)).catch((err) => console.error(message.type, err));
  };
  ws.onclose = async (event) => {
    if (state.left || ws !== state.ws) return;
    if (event.code === TRY_AGAIN_LATER) {
      const seconds = Math.min(RETRY_MAX_SECONDS, 2 ** state.retries);
      state.retries += 1;
      show(t("call.status.retrying", { seconds }), "retrying");
      setTimeout(() => {
        if (!state.left) signal(id, url);
      }, seconds * 1000);
      return;
    }
    if (!welcomed && state.retries > 0) {
      // Refused while we waited (the ticket expired, or the server spent it): a new one,
      // once (a new ticket refused otherwise than with 1013 ends the call).
      state.retries = 0;
      if (await join(id)) signal(id, state.call.ws_url);
      return;
    }
    if (document.body.dataset.callState !== "ended") show(t("call.status.disconnected"), "ended");
  };
}

document.getElementById("hangup").addEventListener("click", () => {
  state.left = true;
  send({ type: "bye" });
  for (const id of [...state.peers.keys()]) dropPeer(id);
  if (state.pinger) clearInterval(state.pinger);
  if (state.ws) state.ws.close();
  if (state.stream) state.stream.getTracks().forEach((track) => track.stop());
  show(t("call.status.left"), "ended");
});
document.addEventListener("click", () => {
  for (const peer of state.peers.values()) {
    for (const { audio } of peer.tiles) audio.play().catch(() => {});
  }
});

start();
