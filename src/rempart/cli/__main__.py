"""``python -m rempart.cli``: the same as the ``rempart`` command."""

from rempart.cli.main import run

run()
