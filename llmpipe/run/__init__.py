"""Deciding what changed and running stages: status, scheduler, execution, run-cache."""
