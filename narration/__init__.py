"""Article narration: the domain shared by the CLI, the web service and the workers.

Nothing in this package imports Flask or Celery.
"""
