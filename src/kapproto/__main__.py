"""``python -m kapproto``: the same as the ``kapproto`` command."""

from kapproto.cli import main

raise SystemExit(main())
