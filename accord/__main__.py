"""`python -m accord` is the `accord` command."""

from accord.cli import app

app(prog_name="accord")
