"""The report: its model (records every stage fills), the step that builds it, redaction, and its formats."""
