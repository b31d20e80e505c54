"""Evaluation: conditions compiled once, three-valued evaluation with evidence, and the ranking of causes."""
