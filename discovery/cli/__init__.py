"""Command line: ``discovery run | status | export | ask | tell | diagnose | benchmark | report``."""

from discovery.cli import benchmark as _benchmark  # noqa: F401  (registers the command)
from discovery.cli import diagnose as _diagnose  # noqa: F401  (registers the command)
from discovery.cli import report as _report  # noqa: F401  (registers the command)
from discovery.cli import run as _run  # noqa: F401  (registers the command)
from discovery.cli import store as _store  # noqa: F401  (registers the commands)
from discovery.cli.app import app

__all__ = ["app"]
