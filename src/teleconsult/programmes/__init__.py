"""Chronic-disease follow-up programmes: what they cover, enrolment, and who is overdue."""
