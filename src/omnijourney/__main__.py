"""``python -m omnijourney``: the command-line interface."""

from omnijourney.cli import main

raise SystemExit(main())
