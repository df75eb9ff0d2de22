"""`python -m sandbox`: the sandbox in the foreground (see `--help`)."""

from sandbox import main

main()
