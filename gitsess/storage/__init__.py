"""The storage layer: the only code that touches git objects and refs."""
