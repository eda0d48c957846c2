"""Teleconsult: telemedicine consultations with a consent-controlled health passport."""

__version__ = "0.1.0"
