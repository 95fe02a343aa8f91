"""Comparing an environment with its lock: the pure sync planner, the no-op check, unmet requirements."""
