// Display names for the codes of the API and the consultation lifecycle, in the chosen
// language. The API speaks slugs; people read these names.
//
// Every table below is an object of code → name whose values are getters: reading
// STATUSES.completed (or Object.entries(STATUSES)) gives the name in the language current at
// that moment, so a view re-rendered after a language switch needs nothing else.

import { language, t } from "./i18n.js";

/** A table whose names come from the catalogue: code → t(`${prefix}.${code}`). */
function catalogueTable(prefix, codes) {
  const table = {};
  for (const code of codes) {
    Object.defineProperty(table, code, { get: () => t(`${prefix}.${code}`), enumerable: true });
  }
  return Object.freeze(table);
}

// Specialties, regions and care levels come from the API (GET /api/v1/codes, made from
// src/teleconsult/codes.py) with a name per language: app.js hands them to setCodes() once,
// before any view renders.
export const SPECIALTIES = {};
export const REGIONS = {};
export const CARE_LEVELS = {};

/** Fills the tables above from the answer of GET /api/v1/codes. */
export function setCodes(codes) {
  for (const [table, list] of [
    [SPECIALTIES, codes.specialties],
    [REGIONS, codes.regions],
    [CARE_LEVELS, codes.care_levels],
  ]) {
    for (const { code, name, names } of list || []) {
      Object.defineProperty(table, code, {
        get: () => names?.[language()] || name,
        enumerable: true,
        configurable: true,
      });
    }
  }
}

export const ROLES = catalogueTable("common.role", ["admin", "gp", "specialist", "patient"]);

export const STATUSES = catalogueTable("code.status", [
  "requested",
  "scheduled",
  "in_progress",
  "completed",
  "cancelled",
  "no_show",
]);

export const URGENCIES = catalogueTable("code.urgency", ["routine", "urgent", "emergency"]);

export const MODES = catalogueTable("code.mode", ["video", "async"]);

export const PASSPORT_KINDS = catalogueTable("code.passport_kind", [
  "note",
  "diagnosis",
  "prescription",
  "lab_result",
  "referral",
  "attachment",
  "allergy",
  "observation",
]);

// What a consent grant may be limited to (the API's categories).
export const CONSENT_CATEGORIES = catalogueTable("code.consent_category", [
  "notes",
  "diagnoses",
  "prescriptions",
  "lab_results",
  "attachments",
  "recording",
]);

export const ROUTES_OF_ADMINISTRATION = [
  "oral",
  "sublingual",
  "inhaled",
  "topical",
  "intravenous",
  "intramuscular",
  "subcutaneous",
  "rectal",
];

/** The routes of administration by name: {oral: "By mouth", …} in the chosen language. */
export const ADMINISTRATION_ROUTES = catalogueTable("code.route", ROUTES_OF_ADMINISTRATION);

/** The name for a code, or the code itself when the table does not know it. */
export const label = (table, code) => table[code] ?? (code == null ? "" : String(code).replaceAll("_", " "));
