"""Rendering: manifests from data in the repository's style, edits, REVIEW comments."""
