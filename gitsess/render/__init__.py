"""Rendering: turning the model into text for people. Separate from the model and the CLI."""
