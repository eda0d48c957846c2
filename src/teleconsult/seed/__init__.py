"""Demonstration data: ``teleconsult seed-demo`` (``demo.py``) and a national history of
consultations for the statistics (``history.py``)."""
