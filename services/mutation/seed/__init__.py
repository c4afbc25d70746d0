"""Demonstration grants and subscriptions (`python -m mutation seed`)."""
