"""The input: the snapshot contract (models, compiled validator), reading JSON, and the facts rules read."""
