"""Chapter 3's practice tasks."""

TASKS = ()
