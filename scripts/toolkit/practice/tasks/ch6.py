"""Chapter 6's practice tasks."""

TASKS = ()
