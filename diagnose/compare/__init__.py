"""Comparing diagnoses: two snapshots of an account (diff), one account over time (history), a portfolio from day to day."""
