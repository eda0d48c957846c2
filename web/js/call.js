// The browser side of a consultation call.
//
// The consultation id comes from the URL (/call/<id> or ?consultation=<id>); the session is
// the HttpOnly cookie set at login, so no token is ever visible to this script. The server
// returns ICE servers and a one-time signaling URL. Peer-to-peer calls use perfect
// negotiation: the newcomer offers, and on glare the polite side yields (the server tells
// each side whether it is polite). In relay mode the server's gateway is the other side.

const statusEl = document.getElementById("status");
const localVideo = document.getElementById("local");
const remoteVideo = document.getElementById("remote");
const remoteAudio = document.getElementById("remote-audio");

const state = {
  call: null,
  ws: null,
  pc: null,
  stream: null,
  polite: true,
  mode: "p2p",
  remote: null,
  makingOffer: false,
  ignoreOffer: false,
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

function target() {
  return state.mode === "relay" ? undefined : state.remote || undefined;
}

function closePeer() {
  if (state.pc) {
    state.pc.close();
    state.pc = null;
  }
  remoteVideo.srcObject = null;
  remoteAudio.srcObject = null;
}

function newPeer() {
  const pc = new RTCPeerConnection({ iceServers: state.call.ice_servers });
  state.pc = pc;
  for (const track of state.stream.getTracks()) pc.addTrack(track, state.stream);

  pc.ontrack = ({ track, streams }) => {
    const stream = streams[0] || new MediaStream([track]);
    if (track.kind === "video") {
      remoteVideo.srcObject = stream;
      remoteVideo.play().catch(() => {});
    } else {
      remoteAudio.srcObject = stream;
      remoteAudio.play().catch(() => show("Click anywhere to hear the other side"));
    }
  };
  pc.onicecandidate = ({ candidate }) => {
    send({ type: "candidate", candidate: candidate ? candidate.toJSON() : null, to: target() });
  };
  pc.onnegotiationneeded = async () => {
    try {
      state.makingOffer = true;
      await pc.setLocalDescription();
      send({ type: "offer", sdp: pc.localDescription.sdp, to: target() });
    } catch (err) {
      console.error("offer failed", err);
    } finally {
      state.makingOffer = false;
    }
  };
  pc.onconnectionstatechange = () => {
    const s = pc.connectionState;
    if (s === "connected") show("Connected", "connected");
    else if (s === "failed") show("Connection failed; trying again…", "failed");
    else show(s.charAt(0).toUpperCase() + s.slice(1));
    if (s === "failed" && state.mode === "p2p") pc.restartIce();
  };
  return pc;
}

async function onDescription(message) {
  if (state.mode === "p2p" && message.from && message.from !== state.remote) {
    closePeer();
    state.remote = message.from;
  }
  const pc = state.pc || newPeer();
  const description = { type: message.type, sdp: message.sdp };
  const collision = description.type === "offer" && (state.makingOffer || pc.signalingState !== "stable");
  state.ignoreOffer = !state.polite && collision;
  if (state.ignoreOffer) return;
  await pc.setRemoteDescription(description); // a polite peer rolls back implicitly
  if (description.type === "offer") {
    await pc.setLocalDescription();
    send({ type: "answer", sdp: pc.localDescription.sdp, to: message.from });
  }
}

async function onCandidate(message) {
  if (!state.pc) return;
  try {
    await state.pc.addIceCandidate(message.candidate || undefined);
  } catch (err) {
    if (!state.ignoreOffer) console.warn("candidate refused", err);
  }
}

async function onMessage(message) {
  switch (message.type) {
    case "welcome":
      state.polite = message.polite;
      state.mode = message.mode;
      if (state.mode === "relay") {
        state.polite = true;
        newPeer();
        show("Connecting through the server…", "connecting");
      } else if (message.peers.length) {
        state.remote = message.peers[0].peer_id;
        newPeer();
        show("Connecting…", "connecting");
      } else {
        show("Waiting for the other participant…", "waiting");
      }
      break;
    case "peer-joined":
      if (state.mode === "p2p" && message.peer_id !== state.remote) {
        closePeer();
        state.remote = message.peer_id;
        show("The other participant joined; connecting…", "connecting");
      }
      break;
    case "peer-left":
      if (state.mode === "p2p" && message.peer_id === state.remote) {
        closePeer();
        state.remote = null;
        show("The other participant left; waiting…", "waiting");
      }
      break;
    case "offer":
    case "answer":
      await onDescription(message);
      break;
    case "candidate":
      await onCandidate(message);
      break;
    case "bye":
      if (message.from === state.remote) closePeer();
      break;
    case "error":
      console.warn("signaling error", message.error, message.detail);
      if (message.error === "replaced") show("You joined from another window.", "ended");
      break;
  }
}

async function start() {
  const id = consultationId();
  if (!id) {
    show("No consultation in the address.", "error");
    return;
  }
  try {
    state.stream = await navigator.mediaDevices.getUserMedia({
      video: { width: 640, height: 480 },
      audio: true,
    });
  } catch (err) {
    show("Camera or microphone unavailable: " + err.name, "error");
    return;
  }
  localVideo.srcObject = state.stream;
  const response = await fetch(`/api/v1/consultations/${encodeURIComponent(id)}/call`, {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    show(body.detail || `Cannot join (${response.status}).`, "error");
    return;
  }
  state.call = body;
  state.mode = body.mode;
  const ws = new WebSocket(body.ws_url);
  state.ws = ws;
  ws.onmessage = (event) => {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    onMessage(message).catch((err) => console.error(message.type, err));
  };
  ws.onclose = () => {
    if (document.body.dataset.callState !== "ended") show("Disconnected.", "ended");
  };
  setInterval(() => send({ type: "ping" }), 20000);
}

document.getElementById("hangup").addEventListener("click", () => {
  send({ type: "bye" });
  closePeer();
  if (state.ws) state.ws.close();
  if (state.stream) state.stream.getTracks().forEach((t) => t.stop());
  show("You left the call.", "ended");
});
document.addEventListener("click", () => remoteAudio.play().catch(() => {}));

start();
