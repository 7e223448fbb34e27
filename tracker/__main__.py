"""`python -m tracker` runs the same CLI as the `tracker` console command."""

from tracker.cli import main

main()
