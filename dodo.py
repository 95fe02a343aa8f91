"""For a plain `doit` in the checkout: the pipeline is tasks/dodo.py (what ./doit and wheelwright load)."""

from tasks.dodo import *  # noqa: F403
from tasks.dodo import __all__  # noqa: F401
