"""FHIR R4 export of a patient's passport."""
