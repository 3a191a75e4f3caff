"""Chapter 7's practice tasks."""

TASKS = ()
