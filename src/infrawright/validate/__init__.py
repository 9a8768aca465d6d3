"""Validation: the rules over built objects and schema checks, run by one engine."""
