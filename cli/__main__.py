"""`python -m cli`: the `newswatch` command without its console script."""

from cli import main

main()
