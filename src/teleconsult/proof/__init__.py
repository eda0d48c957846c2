"""Proof of service: consultations declared completed but not delivered, flagged on
completion (``flags.py``), reported to the administrator by facility, specialist and month
(``report.py``) and resolved with an audited reason."""
