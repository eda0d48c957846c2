// A one-time link (an invitation, a password reset) as the pages report it: sent to the
// person by SMS or e-mail (the hinted address), or, only when no channel took it
// (development), shown once, full and selectable, with when it stops working.

import { field, h } from "./dom.js";
import { formatDateTime, t } from "./i18n.js";

export function linkNotice(note, messageKey, out) {
  const names = { name: out.user.full_name, username: out.user.username };
  const said = out.sent_by
    ? t("admin.users.link_sent", {
        ...names,
        channel: t(`notify.channel.${out.sent_by}`),
        to: out.sent_to,
      })
    : t("admin.users.link_unsent", names);
  if (!out.link) {
    note.show("success", h("p", {}, said));
    return;
  }
  const url = new URL(out.link, location.origin).href;
  const box = h("input", {
    type: "text",
    readonly: true,
    value: url,
    class: "admin-link",
    spellcheck: "false",
  });
  note.show(
    "success",
    h("p", {}, t(messageKey, names)),
    h("p", {}, said),
    field(t("admin.users.link"), box, {
      hint: t("admin.users.link_hint", { until: formatDateTime(out.expires_at) }),
      wide: true,
    }),
  );
  box.focus();
  box.select();
}
