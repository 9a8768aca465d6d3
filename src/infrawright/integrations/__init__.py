"""Integrations with what runs outside the repository: the read-only live-cluster check."""
