// One connection-quality sample from RTCPeerConnection.getStats() (see steps.js).

/** {at, rtt, loss, available, audioPackets, sent} for one connection, given the previous sample. */
export async function sample(pc, previous) {
  const report = await pc.getStats();
  let rtt = null;
  let available = null;
  let lost = 0;
  let sentPackets = 0;
  let audioPackets = 0;
  let bytesSent = 0;
  let bytesReceived = 0;
  const pairs = new Map();
  let selected = null;
  report.forEach((s) => {
    if (s.type === "transport" && s.selectedCandidatePairId) selected = s.selectedCandidatePairId;
    if (s.type === "candidate-pair") pairs.set(s.id, s);
    if (s.type === "remote-inbound-rtp") {
      lost += s.packetsLost || 0;
      if (s.roundTripTime != null) rtt = Math.max(rtt ?? 0, s.roundTripTime);
    }
    if (s.type === "outbound-rtp") {
      sentPackets += s.packetsSent || 0;
      bytesSent += s.bytesSent || 0;
    }
    if (s.type === "inbound-rtp") {
      bytesReceived += s.bytesReceived || 0;
      if (s.kind === "audio") audioPackets += s.packetsReceived || 0;
    }
  });
  let pair = selected ? pairs.get(selected) : null;
  if (!pair) pair = [...pairs.values()].find((p) => p.nominated && p.state === "succeeded") || null;
  if (pair) {
    if (pair.currentRoundTripTime != null) rtt = pair.currentRoundTripTime;
    if (pair.availableOutgoingBitrate != null) available = pair.availableOutgoingBitrate;
  }
  const at = performance.now() / 1000;
  let loss = null;
  let sending = null;
  let receiving = null;
  if (previous) {
    const dLost = lost - previous.lost;
    const dSent = sentPackets - previous.sentPackets;
    if (dSent > 0) loss = Math.max(0, Math.min(1, dLost / (dSent + Math.max(0, dLost))));
    const seconds = at - previous.at;
    if (seconds > 0) {
      sending = ((bytesSent - previous.bytesSent) * 8) / seconds;
      receiving = ((bytesReceived - previous.bytesReceived) * 8) / seconds;
    }
  }
  return {
    at,
    rtt,
    loss,
    available,
    lost,
    sentPackets,
    audioPackets,
    bytesSent,
    bytesReceived,
    sending,
    receiving,
  };
}
