"""Chapter 2's practice tasks."""

TASKS = ()
