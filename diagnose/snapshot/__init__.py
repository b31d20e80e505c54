"""The input: the snapshot contract (models, compiled validator), reading JSON, and the facts rules read."""

from diagnose import deferred

# The cold path validates with pydantic-core's compiled module only (`pydantic_core._pydantic_core`); the package's
# own `__init__` builds the schema-writing TypedDicts and runs when something reads from the package (see `deferred`).
deferred.bare("pydantic_core")
