"""The report: the one step that builds it from an evaluation, redaction, and its output formats."""
