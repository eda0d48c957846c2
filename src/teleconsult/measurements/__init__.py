"""Measurements at home and in the clinic, their targets, and the "needs attention" list."""
