"""A small service with a sub-package and relative imports (dam-codegen fixture)."""
