"""The ``llm-playback`` command: one module per command group (``listing``: ls and show;
``verify``; ``import_command``; ``cleanup``: prune and migrate), what they share
(``entries``), how ``show`` describes an answer (``describe``), the project's ini settings as
the command finds them (``project_settings``) and the parser (``main``).

May import: ``replay.errors``, ``replay.core``, ``replay.store``, ``replay.importers``.
"""
