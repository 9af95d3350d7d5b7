"""The web service: a thin Flask shell around ``narration``."""
