"""wheelwright: Make for Python environments, on doit (library modules and task stages)."""
