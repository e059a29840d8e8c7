"""The pytest plugin: the module pytest loads (``hooks``, entry point ``llm_replay``), options
(``options``), settings resolved once a session (``settings``), the fixtures (``fixtures``),
the handle a test gets (``handle``), what is kept in pytest's stash (``state``) and the report
(``report``). The top of the house: nothing imports it but ``replay``'s lazy names.

May import: ``replay.errors``, ``replay.core``, ``replay.store``, ``replay.shaping``,
``replay.engines``, ``replay.player``, ``replay.transports`` (not ``replay.cli`` nor
``replay.importers``).
"""
