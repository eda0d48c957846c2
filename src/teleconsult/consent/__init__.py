"""Patient consent: grants, one-time-code requests, break-glass, and the decision point."""
