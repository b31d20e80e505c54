"""Rule packs as code: lint, rule tests with coverage, generated rule docs, JSON Schemas and CI report formats."""
