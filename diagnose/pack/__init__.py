"""Rule packs: the rule-file models, loading with file:line positions, templates, the pack cache."""
