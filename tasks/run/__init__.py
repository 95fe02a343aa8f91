"""One run: the model of environments and pins, and the actions the stages call."""
