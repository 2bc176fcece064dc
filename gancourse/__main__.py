"""``python -m gancourse`` is the ``gancourse`` command."""

from gancourse.cli import main

raise SystemExit(main())
