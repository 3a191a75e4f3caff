"""Chapter 4's practice tasks."""

TASKS = ()
