"""Wire schemas: explicit camelCase msgspec Structs, separate from the core's dataclasses."""
