"""``python -m replay.cli``: the ``llm-playback`` command."""

from replay.cli.command_line import main

raise SystemExit(main())
