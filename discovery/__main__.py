"""python -m discovery: the command line."""

from discovery.cli import app

app(prog_name="discovery")
