"""`python -m diagnose` runs the command line."""

from .cli import entry

entry()
