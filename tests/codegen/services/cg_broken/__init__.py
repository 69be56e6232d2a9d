"""A service with every inspection error (dam-codegen fixture; not type-checked)."""
