"""``python -m tui`` runs the partdeck command line."""

from tui.cli import main

raise SystemExit(main())
