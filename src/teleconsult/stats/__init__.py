"""Consultation statistics by specialty, region, facility and period, read from rollups."""
