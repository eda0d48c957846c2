// Files in the pages: a thumbnail (or a PDF tile) that opens the file in place, in a dialog.

import { API, get, post } from "./api.js";
import { h } from "./dom.js";
import { errorText, formatDate, formatNumber, t } from "./i18n.js";
import { uploader } from "./upload.js";

function sizeText(bytes) {
  if (bytes >= 1024 * 1024) return t("files.size_mb", { n: formatNumber(Math.round(bytes / 104857.6) / 10) });
  return t("files.size_kb", { n: formatNumber(Math.max(1, Math.round(bytes / 1024))) });
}

/** What a DICOM file says of its study: date, modality, description. */
function dicomFacts(file) {
  const m = file.meta || {};
  return [m.study_date ? formatDate(m.study_date) : null, m.modality, m.description]
    .filter(Boolean)
    .join(" · ");
}

function viewer(file) {
  const url = `${API}/files/${file.id}`;
  if (file.content_type === "application/dicom") {
    // No preview in the page: its study, and the file to download for a DICOM viewer.
    const link = h("a", { href: `${url}?download=1`, download: file.name }, t("files.download"));
    link.click();
    return;
  }
  const close = h("button", { type: "button", class: "secondary" }, t("files.close"));
  const body = file.content_type.startsWith("image/")
    ? h("img", { src: url, alt: file.name, class: "file-full" })
    : h("iframe", { src: url, title: file.name, class: "file-pdf" });
  const dialog = h(
    "dialog",
    { class: "file-viewer", "aria-label": file.name },
    h("div", { class: "file-viewer-head" }, h("strong", {}, file.name), close),
    body,
    h(
      "p",
      { class: "actions" },
      h("a", { href: url, target: "_blank", rel: "noopener", class: "button secondary" }, t("files.new_tab")),
      h(
        "a",
        { href: `${url}?download=1`, class: "button secondary", download: file.name },
        t("files.download"),
      ),
    ),
  );
  close.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  close.focus();
}

/** One file: its thumbnail (images) or a PDF tile, a button that opens it. */
export function fileTile(file) {
  const preview = file.thumbnail
    ? h("img", {
        src: `${API}/files/${file.id}/thumbnail`,
        alt: t("files.preview", { name: file.name }),
        class: "file-thumb",
        loading: "lazy",
      })
    : h(
        "span",
        { class: "file-icon", "aria-hidden": "true" },
        file.content_type === "application/dicom" ? t("files.dicom") : t("files.pdf"),
      );
  const dicom = file.content_type === "application/dicom" ? dicomFacts(file) : "";
  const open = h(
    "button",
    {
      type: "button",
      class: "file-tile",
      "aria-label": dicom
        ? t("files.download_named", { name: file.name })
        : t("files.open", { name: file.name }),
    },
    preview,
    h("span", { class: "file-name" }, file.name),
    dicom ? h("span", { class: "file-facts" }, dicom) : null,
    h("span", { class: "file-size muted" }, sizeText(file.size)),
  );
  open.addEventListener("click", () => viewer(file));
  return open;
}

/** A passport attachment entry's file (its body carries the file's id, name and type). */
export function entryFile(body) {
  if (!body?.file_id) return null;
  return fileTile({
    id: body.file_id,
    name: body.name || body.title,
    content_type: body.content_type,
    size: body.size || 0,
    meta: body.meta || {},
    thumbnail: String(body.content_type || "").startsWith("image/"),
  });
}

const OPEN = new Set(["requested", "scheduled", "in_progress"]);

/**
 * A consultation's files, for its GP and specialist (loaded when shown); until it ends, more
 * can be added (each attached as soon as it has arrived).
 */
export function consultationFiles(c, me) {
  if (!me || (me.id !== c.requester_id && me.id !== c.specialist_id)) return null;
  const title = h("p", { class: "file-list-title", hidden: true }, t("files.title"));
  const tiles = h("div", { class: "file-list" });
  const show = (file) => {
    title.hidden = false;
    tiles.append(fileTile(file));
  };
  get(`/consultations/${c.id}/files`).then(
    (files) => files.forEach(show),
    (error) => tiles.append(h("p", { class: "muted" }, errorText(error))),
  );
  const box = h("div", { class: "consultation-files" }, title, tiles);
  if (OPEN.has(c.status)) {
    const more = uploader({
      label: t("files.attach"),
      id: `upload-${c.id}`,
      onUploaded: async (file) => show(await post(`/consultations/${c.id}/files`, { file_id: file.id })),
    });
    box.append(h("details", { class: "add-files" }, h("summary", {}, t("files.add")), more.element));
  }
  return box;
}
