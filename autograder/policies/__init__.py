"""Course policies: due dates, late penalties, late-day budgets, extensions and which submission counts, applied when a score is counted."""
