"""Where student code runs: the backends, their confinement, and the event channel back to the grader."""
