"""The tool's version: one place, read by the build, the pack cache and `--version`."""

__version__ = "0.1.0"
