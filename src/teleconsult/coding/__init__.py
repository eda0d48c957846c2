"""ICD-10 coding help: codes suggested from a note's text, and what was chosen of them."""
