"""gitsess: AI coding agent sessions stored as git objects."""

__version__ = "0.1.0"
