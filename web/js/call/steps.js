// Stepping down and back up: a pure decision from connection samples, so it can be tested
// with made-up samples (tests/e2e/test_call_room.py) and reasoned about without a network.
//
// A sample is what the page reads from getStats() every SAMPLE_SECONDS:
//   { at: seconds, rtt: seconds | null, loss: 0..1 | null, available: bits/s | null }
// (`available` is the sender's bandwidth estimate, availableOutgoingBitrate of the chosen
// candidate pair; `loss` is the share of packets lost over the last interval as the other
// side reports it).
//
// Steps, from the best: 0 full video, 1 half resolution, 2 quarter resolution, 3 audio only.

export const SAMPLE_SECONDS = 1;
export const UP_SECONDS = 8;
export const AUDIO_ONLY = 3;

/** What the sender does on each step (RTCRtpSender.setParameters on the video sender). */
export const STEPS = [
  { scale: 1, maxBitrate: 900_000, video: true },
  { scale: 2, maxBitrate: 350_000, video: true },
  { scale: 4, maxBitrate: 150_000, video: true },
  { scale: 4, maxBitrate: 0, video: false },
];

// A step needs this much estimated bandwidth to hold (video plus audio and overhead).
const NEEDS = [600_000, 300_000, 200_000, 0];
// Stepping up needs an estimate this many times what the step may send, for UP_SECONDS.
const UP_MARGIN = 1.5;
// Stepping down needs DOWN_SAMPLES weak samples in a row (one bad second is not a weak link).
const DOWN_SAMPLES = 2;
// After a change, wait before the next one: the estimate needs time to settle.
const HOLD_SECONDS = 3;
const WEAK_LOSS = 0.08;
const GOOD_LOSS = 0.02;
const WEAK_RTT = 0.8;
const GOOD_RTT = 0.4;
// A link with nothing queueing on it.
const CLEAN_RTT = 0.15;
const CLEAN_LOSS = 0.01;
// Lost badly: straight to audio only, whatever step the video is on.
const BAD_LOSS = 0.25;

/** Whether one sample is too weak for `step`. */
export function weakFor(sample, step) {
  if (sample.loss != null && sample.loss > WEAK_LOSS) return true;
  if (sample.rtt != null && sample.rtt > WEAK_RTT) return true;
  return sample.available != null && sample.available < NEEDS[step];
}

/**
 * Whether one sample leaves room for the step above `step`: an estimate well above what this
 * step may send, or a clean, quick link (no loss, a round trip under CLEAN_RTT: nothing is
 * queueing). The estimate follows what is sent, so on audio only or low video it cannot show
 * the room by itself; a clean link lets the sender try the next step, and the caller waits
 * longer after each try that did not hold.
 */
export function roomAbove(sample, step) {
  if (step === 0) return false;
  if (sample.loss != null && sample.loss > GOOD_LOSS) return false;
  if (sample.rtt == null || sample.rtt > GOOD_RTT) return false;
  if (sample.rtt <= CLEAN_RTT && (sample.loss ?? 0) <= CLEAN_LOSS) return true;
  return sample.available != null && sample.available >= STEPS[step].maxBitrate * UP_MARGIN;
}

/**
 * The step to be on after the samples (oldest first): one down after weak samples, straight
 * to audio only on heavy loss, one up after UP_SECONDS with room for it.
 * `changedAt` is when the step last changed (seconds, like the samples' `at`); `upSeconds`
 * how long the room for the step above must last (the caller doubles it after a step up
 * that did not hold, so a link that cannot carry video is not tried again and again).
 */
export function nextStep(samples, step, changedAt = -Infinity, upSeconds = UP_SECONDS) {
  if (!samples.length) return step;
  const last = samples[samples.length - 1];
  if (last.at - changedAt < HOLD_SECONDS) return step;
  const recent = samples.slice(-DOWN_SAMPLES);
  if (step < AUDIO_ONLY && recent.length === DOWN_SAMPLES && recent.every((s) => weakFor(s, step))) {
    if (recent.every((s) => s.loss != null && s.loss > BAD_LOSS)) return AUDIO_ONLY;
    return step + 1;
  }
  if (step > 0) {
    const window = samples.filter((s) => s.at > last.at - upSeconds && s.at > changedAt);
    const spans = window.length && last.at - window[0].at >= upSeconds - 1 - 1e-9;
    if (spans && window.every((s) => roomAbove(s, step))) return step - 1;
  }
  return step;
}

/** The words for a side's link: "good", "weak" or "audio_only" (catalogue call.quality.*). */
export function quality(step, sample) {
  if (step >= AUDIO_ONLY) return "audio_only";
  if (step > 0 || (sample && weakFor(sample, 0) && (sample.loss > WEAK_LOSS || sample.rtt > WEAK_RTT))) {
    return "weak";
  }
  return "good";
}

/**
 * Whether the other side's audio has stopped: no new audio packets for `seconds` while we
 * should be hearing them. `received` is [{at, packets}] (cumulative packetsReceived).
 */
export function audioLost(received, seconds = 6) {
  if (received.length < 2) return false;
  const last = received[received.length - 1];
  const before = received.filter((r) => r.at <= last.at - seconds);
  if (!before.length) return false;
  return before[before.length - 1].packets >= last.packets;
}

/** Opus for a thin link: in-band FEC on, a low average bitrate (SDP fmtp munging). */
export function opusForThinLinks(sdp, maxAverageBitrate = 24000) {
  const opus = /a=rtpmap:(\d+) opus\/48000/i.exec(sdp);
  if (!opus) return sdp;
  const pt = opus[1];
  const fmtp = new RegExp(`a=fmtp:${pt} ([^\\r\\n]*)`);
  const wanted = { useinbandfec: "1", maxaveragebitrate: String(maxAverageBitrate) };
  if (!fmtp.test(sdp)) {
    const line = `a=fmtp:${pt} ${Object.entries(wanted).map(([k, v]) => `${k}=${v}`).join(";")}`;
    return sdp.replace(opus[0], `${opus[0]}\r\n${line}`);
  }
  return sdp.replace(fmtp, (_, params) => {
    const kept = params
      .split(";")
      .map((p) => p.trim())
      .filter((p) => p && !(p.split("=")[0] in wanted));
    const all = [...kept, ...Object.entries(wanted).map(([k, v]) => `${k}=${v}`)];
    return `a=fmtp:${pt} ${all.join(";")}`;
  });
}
