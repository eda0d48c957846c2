// Display names for the codes of src/teleconsult/codes.py and the consultation lifecycle.
// The API speaks slugs; people read these names.

export const SPECIALTIES = {
  cardiology: "Cardiology",
  pulmonology: "Pulmonology",
  neurology: "Neurology",
  endocrinology: "Endocrinology",
  pediatrics: "Pediatrics",
  oncology: "Oncology",
  nephrology: "Nephrology",
  gastroenterology: "Gastroenterology",
  psychiatry: "Psychiatry",
  dermatology: "Dermatology",
  obstetrics: "Obstetrics and gynaecology",
  ophthalmology: "Ophthalmology",
  traumatology: "Traumatology",
  infectious_diseases: "Infectious diseases",
  rheumatology: "Rheumatology",
};

export const REGIONS = {
  astana: "Astana",
  almaty_city: "Almaty",
  shymkent: "Shymkent",
  abai: "Abai Region",
  akmola: "Akmola Region",
  aktobe: "Aktobe Region",
  almaty_region: "Almaty Region",
  atyrau: "Atyrau Region",
  east_kazakhstan: "East Kazakhstan Region",
  jambyl: "Jambyl Region",
  jetisu: "Jetisu Region",
  karaganda: "Karaganda Region",
  kostanay: "Kostanay Region",
  kyzylorda: "Kyzylorda Region",
  mangystau: "Mangystau Region",
  north_kazakhstan: "North Kazakhstan Region",
  pavlodar: "Pavlodar Region",
  turkistan: "Turkistan Region",
  ulytau: "Ulytau Region",
  west_kazakhstan: "West Kazakhstan Region",
};

export const CARE_LEVELS = { primary: "Primary", secondary: "Secondary", tertiary: "Tertiary" };

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
