"""Guardrails: the organisation's risk rules (events, policy, feed suggestions) as data."""
