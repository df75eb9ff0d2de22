"""`python -m sandbox`: the sandbox in the foreground (see `--help`)."""

from .cli import main

main()
