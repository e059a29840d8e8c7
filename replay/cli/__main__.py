"""``python -m replay.cli``: the ``llm-playback`` command."""

from replay.cli.main import main

raise SystemExit(main())
