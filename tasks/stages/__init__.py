"""doit task generators, one module per stage: they name tasks, deps, targets and checks only."""
