"""Recommended targets for both sides, with the confidence behind every number."""
