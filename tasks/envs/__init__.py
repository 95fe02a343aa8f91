"""Target environments, where a run installs: interpreters and their facts, and virtual environments."""
