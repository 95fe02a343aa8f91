"""Where a run installs: interpreters and their facts, and virtual environments."""
