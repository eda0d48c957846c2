// Resumable uploads (tus 1.0 subset: POST to create, PATCH at Upload-Offset, HEAD to resume)
// with a progress bar per file. A dropped link is retried with back-off: the page asks the
// server how much it holds (HEAD) and sends the rest from there.

import { API, ApiError, post } from "./api.js";
import { h } from "./dom.js";
import { errorText, t } from "./i18n.js";

const CHUNK = 512 * 1024;
const ACCEPT = "image/jpeg,image/png,image/webp,application/pdf,application/dicom,.dcm";
const RETRIES = 8;

function csrf() {
  for (const part of document.cookie.split(";")) {
    const item = part.trim();
    if (item.startsWith("tc_csrf=")) return decodeURIComponent(item.slice(8));
  }
  return "";
}

async function send(method, url, { headers = {}, body } = {}) {
  const init = {
    method,
    credentials: "same-origin",
    headers: { "Tus-Resumable": "1.0.0", Accept: "application/json", ...headers },
    body,
  };
  if (method !== "HEAD") init.headers["X-CSRF-Token"] = csrf();
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    throw new ApiError(0, { code: "network", detail: "The server cannot be reached." });
  }
  if (!response.ok) {
    const type = response.headers.get("Content-Type") || "";
    const body = type.includes("json") ? await response.json().catch(() => null) : null;
    throw new ApiError(response.status, body);
  }
  return response;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Upload one File; onProgress(sent, total). Resolves to the stored file (id, name, type...).
 * Network failures and server hiccups (0, 5xx) are retried; a refusal (413, 415) is not.
 */
export async function uploadFile(file, onProgress = () => {}) {
  const name = btoa(String.fromCharCode(...new TextEncoder().encode(file.name)));
  const created = await send("POST", `${API}/uploads`, {
    headers: { "Upload-Length": String(file.size), "Upload-Metadata": `filename ${name}` },
  });
  const location = created.headers.get("Location");
  let offset = 0;
  let failures = 0;
  onProgress(0, file.size);
  for (;;) {
    try {
      const response = await send("PATCH", location, {
        headers: { "Content-Type": "application/offset+octet-stream", "Upload-Offset": String(offset) },
        body: file.slice(offset, offset + CHUNK),
      });
      failures = 0;
      offset = Number(response.headers.get("Upload-Offset"));
      onProgress(offset, file.size);
      if (response.status === 200) return (await response.json()).file;
    } catch (error) {
      const transient = error.status === 0 || error.status >= 500 || error.status === 409;
      if (!transient || ++failures > RETRIES) throw error;
      await sleep(Math.min(500 * 2 ** (failures - 1), 8000));
      // Where does the server stand? Continue from there.
      try {
        const head = await send("HEAD", location);
        offset = Number(head.headers.get("Upload-Offset"));
        onProgress(offset, file.size);
      } catch (headError) {
        if (headError.status && headError.status < 500) throw headError;
      }
    }
  }
}

/**
 * A labelled file picker that uploads what is chosen at once, each file with its progress
 * bar. `done()` waits for every upload and gives the stored files; `reset()` empties it.
 */
export function uploader({ label = t("files.attach"), id = "upload-files", onUploaded } = {}) {
  // No name: the form's values leave it out; the stored files come from done().
  const input = h("input", { type: "file", multiple: true, accept: ACCEPT, id });
  const list = h("ul", { class: "uploads", "aria-live": "polite" });
  const element = h(
    "div",
    { class: "field wide upload-field" },
    h("label", { for: input.id }, label),
    input,
    h("p", { class: "hint" }, t("files.hint")),
    list,
  );
  let pending = [];

  function add(file) {
    const bar = h("progress", {
      max: "100",
      value: "0",
      "aria-label": t("files.progress", { name: file.name }),
    });
    const state = h("span", { class: "upload-state" }, t("files.uploading"));
    const row = h("li", { class: "upload" }, h("span", { class: "upload-name" }, file.name), bar, state);
    list.append(row);
    const job = uploadFile(file, (sent, total) => {
      bar.value = total ? Math.round((sent / total) * 100) : 100;
    }).then(
      async (stored) => {
        bar.value = 100;
        try {
          if (onUploaded) await onUploaded(stored);
        } catch (error) {
          state.textContent = errorText(error);
          row.classList.add("failed");
          return null;
        }
        state.textContent = t("files.uploaded");
        row.classList.add("done");
        return stored;
      },
      (error) => {
        state.textContent = errorText(error);
        row.classList.add("failed");
        return null;
      },
    );
    pending.push(job);
  }

  input.addEventListener("change", () => {
    for (const file of input.files) add(file);
    input.value = "";
  });

  return {
    element,
    async done() {
      return (await Promise.all(pending)).filter(Boolean);
    },
    reset() {
      pending = [];
      list.replaceChildren();
    },
  };
}

/** Attach stored files to a consultation (a referral or an async case). */
export async function attachAll(consultationId, files) {
  for (const file of files) await post(`/consultations/${consultationId}/files`, { file_id: file.id });
}
