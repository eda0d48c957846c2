// The specialist's availability: weekly hours, one-off windows and leave, each removable
// while nothing is booked in it. Times are entered and shown in the browser's time zone.

import { get, post, request } from "../api.js";
import { busy, clear, clearErrors, field, h, isoDay, localInstant, notice, values } from "../dom.js";
import { errorText, fieldErrorText, formatDate, formatDateTime, formatTime, t } from "../i18n.js";

/** The browser's IANA time zone (the specialist's). */
export const timeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

/**
 * Show an API error in the chosen language: the notice says what happened, each field's
 * message sits next to its control and goes once the control is changed.
 * `names` maps a server field to the control that holds it.
 */
export function showApiError(formEl, noticeEl, error, names = {}) {
  if (formEl) clearErrors(formEl);
  const codes = { ...Object.fromEntries(Object.keys(error.fields || {}).map((k) => [k, "invalid"])), ...(error.fieldCodes || {}) };
  const params = error.fieldParams || {};
  for (const [path, code] of Object.entries(codes)) {
    const name = names[path.split(".")[0]] || path.split(".")[0];
    const control = formEl?.elements.namedItem(name);
    const slot = control?.closest?.(".field")?.querySelector(".field-error");
    if (!slot) continue;
    control.setAttribute("aria-invalid", "true");
    slot.textContent = fieldErrorText(code, params[path] || {});
    slot.hidden = false;
    const fixed = () => {
      control.removeAttribute("aria-invalid");
      slot.hidden = true;
      slot.textContent = "";
      control.removeEventListener("input", fixed);
    };
    control.addEventListener("input", fixed);
  }
  noticeEl?.show("error", errorText(error));
  formEl?.querySelector("[aria-invalid]")?.focus();
}

/** A form whose submit runs handler(values, form); API errors are shown translated. */
export function apiForm(attrs, children, handler, names) {
  const note = notice();
  const el = h("form", { ...attrs, novalidate: true }, children, note);
  el.notice = note;
  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(el);
    note.hide();
    await busy(el, async () => {
      try {
        await handler(values(el), el);
      } catch (error) {
        if (error?.status === undefined) throw error;
        showApiError(el, note, error, names);
      }
    });
  });
  return el;
}

/** Weekday names Monday..Sunday in the chosen language (from the catalogue: browsers do not
 * all know Kazakh weekday names). */
export const weekdays = () => [...Array(7).keys()].map((i) => t(`spec.weekday.${i}`));

const required = (data, names) => {
  const missing = names.filter((k) => !data[k]);
  if (missing.length)
    throw {
      status: 422,
      code: "invalid",
      fieldCodes: Object.fromEntries(missing.map((k) => [k, "missing"])),
    };
};

const minutesInput = (value) =>
  h("input", { name: "slot_minutes", type: "number", min: "5", max: "240", value, inputmode: "numeric" });

export function renderAvailability(main, { me }) {
  const base = `/specialists/${me.id}`;
  const weeklyList = h("ul", { class: "items hours" });
  const windowList = h("ul", { class: "items hours" });
  const leaveList = h("ul", { class: "items hours" });
  const listNote = notice();
  const days = weekdays();

  const removeButton = (text, path, label) => {
    const button = h("button", { type: "button", class: "secondary", "aria-label": label }, text);
    button.addEventListener("click", () =>
      busy(button, async () => {
        if (!window.confirm(t("spec.avail.remove_confirm"))) return;
        listNote.hide();
        try {
          await request("DELETE", path);
          listNote.show("success", t("spec.avail.removed"));
          await reload();
        } catch (error) {
          if (error?.status === undefined) throw error;
          listNote.show("error", errorText(error));
        }
      }),
    );
    return button;
  };

  async function reload() {
    let overview;
    try {
      overview = await get(`${base}/availability`);
    } catch (error) {
      if (error?.status === undefined) throw error;
      listNote.show("error", errorText(error));
      return;
    }
    const empty = (list, key) => list.childElementCount || list.append(h("li", { class: "muted empty" }, t(key)));
    clear(
      weeklyList,
      overview.weekly.map((rule) => {
        const text = t("spec.avail.weekly_item", {
          day: days[rule.weekday],
          from: rule.starts,
          to: rule.ends,
          minutes: rule.slot_minutes,
        });
        return h(
          "li",
          { class: "item hour-item" },
          h("span", {}, text),
          h("span", { class: "muted" }, t("spec.avail.booked", { count: rule.booked, n: rule.booked })),
          removeButton(t("spec.avail.remove"), `${base}/weekly-hours/${rule.id}`, t("spec.avail.remove_named", { what: text })),
        );
      }),
    );
    empty(weeklyList, "spec.avail.weekly_empty");
    clear(
      windowList,
      overview.windows.map((w) => {
        const text = `${formatDateTime(w.starts_at)} – ${formatTime(w.ends_at)}`;
        return h(
          "li",
          { class: "item hour-item window", dataset: { booked: String(w.booked) } },
          h("span", {}, text),
          h(
            "span",
            { class: "muted" },
            t("spec.avail.slots", { count: w.slots, n: w.slots }),
            " · ",
            t("spec.avail.booked", { count: w.booked, n: w.booked }),
            w.weekly_id ? ` · ${t("spec.avail.from_weekly")}` : "",
          ),
          removeButton(t("spec.avail.remove"), `${base}/availability/${w.id}`, t("spec.avail.remove_named", { what: text })),
        );
      }),
    );
    empty(windowList, "spec.avail.windows_empty");
    clear(
      leaveList,
      overview.leave.map((item) => {
        const text = `${formatDate(item.first_day)} – ${formatDate(item.last_day)}`;
        return h(
          "li",
          { class: "item hour-item" },
          h("span", {}, text),
          removeButton(t("spec.avail.cancel_leave"), `${base}/leave/${item.id}`, t("spec.avail.remove_named", { what: text })),
        );
      }),
    );
    empty(leaveList, "spec.avail.leave_empty");
  }

  const weekly = apiForm(
    { class: "grid" },
    [
      field(
        t("spec.avail.weekday"),
        h(
          "select",
          { name: "weekday" },
          days.map((d, i) => h("option", { value: String(i) }, d)),
        ),
      ),
      field(t("spec.avail.from"), h("input", { name: "starts", type: "time", value: "09:00", required: true })),
      field(t("spec.avail.to"), h("input", { name: "ends", type: "time", value: "12:00", required: true })),
      field(t("spec.avail.slot_minutes"), minutesInput("20")),
      h("div", { class: "actions wide" }, h("button", { type: "submit", class: "primary" }, t("spec.avail.add_weekly"))),
    ],
    async (data, el) => {
      required(data, ["starts", "ends"]);
      const rule = await post(`${base}/weekly-hours`, {
        weekday: Number(data.weekday),
        starts: data.starts,
        ends: data.ends,
        time_zone: timeZone(),
        slot_minutes: data.slot_minutes ? Number(data.slot_minutes) : undefined,
      });
      el.notice.show("success", t("spec.avail.weekly_added", { count: rule.slots, n: rule.slots }));
      await reload();
    },
  );

  const tomorrow = new Date();
  tomorrow.setDate(tomorrow.getDate() + 1);
  const oneOff = apiForm(
    { class: "grid" },
    [
      field(t("spec.avail.date"), h("input", { name: "date", type: "date", value: isoDay(tomorrow), required: true })),
      field(t("spec.avail.from"), h("input", { name: "starts_at", type: "time", value: "14:00", required: true })),
      field(t("spec.avail.to"), h("input", { name: "ends_at", type: "time", value: "15:00", required: true })),
      field(t("spec.avail.slot_minutes"), minutesInput("20")),
      h("div", { class: "actions wide" }, h("button", { type: "submit", class: "primary" }, t("spec.avail.add_window"))),
    ],
    async (data, el) => {
      required(data, ["date", "starts_at", "ends_at"]);
      const body = {
        starts_at: localInstant(data.date, data.starts_at),
        ends_at: localInstant(data.date, data.ends_at),
      };
      if (data.slot_minutes) body.slot_minutes = Number(data.slot_minutes);
      const window = await post(`${base}/availability`, body);
      el.notice.show(
        "success",
        t("spec.avail.window_added", {
          count: window.slots,
          n: window.slots,
          minutes: window.slot_minutes,
          when: `${formatDateTime(window.starts_at)} – ${formatTime(window.ends_at)}`,
        }),
      );
      await reload();
    },
  );

  const leave = apiForm(
    { class: "grid" },
    [
      field(t("spec.avail.first_day"), h("input", { name: "first_day", type: "date", required: true })),
      field(t("spec.avail.last_day"), h("input", { name: "last_day", type: "date", required: true })),
      h("div", { class: "actions wide" }, h("button", { type: "submit", class: "primary" }, t("spec.avail.add_leave"))),
    ],
    async (data, el) => {
      required(data, ["first_day", "last_day"]);
      const taken = await post(`${base}/leave`, { ...data, time_zone: timeZone() });
      el.notice.show("success", t("spec.avail.leave_added", { count: taken.slots_removed, n: taken.slots_removed }));
      el.reset();
      await reload();
    },
  );

  const section = (id, title, ...content) =>
    h("section", { class: "card", "aria-labelledby": id }, h("h2", { id }, title), ...content);
  main.append(
    h("p", { class: "muted" }, t("spec.avail.zone", { zone: timeZone() })),
    h(
      "div",
      { class: "columns" },
      section("weekly-title", t("spec.avail.weekly"), weekly, h("h3", {}, t("spec.avail.weekly_list")), weeklyList),
      section("leave-title", t("spec.avail.leave"), leave, h("h3", {}, t("spec.avail.leave_list")), leaveList),
    ),
    h(
      "div",
      { class: "columns" },
      section("window-title", t("spec.avail.one_off"), oneOff),
      section("windows-title", t("spec.avail.windows"), listNote, windowList),
    ),
  );
  return reload();
}
