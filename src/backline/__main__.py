"""``python -m backline``."""

from backline.cli.app import main

main()
