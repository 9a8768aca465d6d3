"""Validation: real kustomize builds, schema checks and the pattern rules."""
