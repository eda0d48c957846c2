// Display names for the codes of the API and the consultation lifecycle.
// The API speaks slugs; people read these names.

// Specialties, regions and care levels come from the API (GET /api/v1/codes, made from
// src/teleconsult/codes.py): app.js hands them to setCodes() once, before any view renders.
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
    for (const { code, name } of list) table[code] = name;
  }
}

export const ROLES = {
  admin: "Administrator",
  gp: "General practitioner",
  specialist: "Specialist",
  patient: "Patient",
};

export const STATUSES = {
  requested: "Requested",
  scheduled: "Scheduled",
  in_progress: "In progress",
  completed: "Completed",
  cancelled: "Cancelled",
  no_show: "No-show",
};

export const URGENCIES = { routine: "Routine", urgent: "Urgent", emergency: "Emergency" };

export const MODES = { video: "Video call", async: "Async case" };

export const PASSPORT_KINDS = {
  note: "Note",
  diagnosis: "Diagnosis",
  prescription: "Prescription",
  lab_result: "Lab result",
  referral: "Referral",
  attachment: "Attachment",
};

// What a consent grant may be limited to (the API's categories).
export const CONSENT_CATEGORIES = {
  notes: "Notes",
  diagnoses: "Diagnoses",
  prescriptions: "Prescriptions",
  lab_results: "Lab results",
  attachments: "Attachments",
  recording: "Call recordings",
};

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

/** The name for a code, or the code itself when the table does not know it. */
export const label = (table, code) => table[code] ?? (code == null ? "" : String(code).replaceAll("_", " "));
