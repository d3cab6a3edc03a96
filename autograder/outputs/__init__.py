"""What grading leaves behind: result files, feedback pages, tables, the report, refreshed together."""
