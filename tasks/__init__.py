"""wheelwright: Make for Python environments, on doit (library modules and task stages)."""

__version__ = "0.1.0"
