"""The ``llm-playback`` command: one module per command group (``listing``: ls and show;
``verify``; ``import_command``; ``cleanup``: prune and migrate), what they share
(``entries``), how ``show`` describes an answer (``describe``), the project's ini settings as
the command finds them (``project_settings``) and the parser and entry point (``command_line``).

May import: ``replay.errors``, ``replay.core``, ``replay.store``, ``replay.importers``.
"""

from replay.core.lazy_names import lazy_names

# The names 0.1's ``replay.cli`` module held, from the modules that hold them now.
__getattr__ = lazy_names(
    __name__,
    {
        "main": "replay.cli.command_line",
        "build_parser": "replay.cli.command_line",
    },
)
