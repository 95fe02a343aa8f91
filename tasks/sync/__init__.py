"""Syncing an environment: the pure plan (install, replace, remove, keep) and the quick no-op check."""
