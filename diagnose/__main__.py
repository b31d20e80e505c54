"""`python -m diagnose` runs the command line."""

from diagnose.cli import entry

entry()
