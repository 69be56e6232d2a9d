"""A test service exercising every type form the generator supports (dam-codegen fixture)."""
