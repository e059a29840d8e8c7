"""Where recordings live: the ``Store`` protocol the player needs, a folder of files laid out by
test (``directory``, ``layout``), recordings in memory (``memory``), bounded reading of files
(``file_reading``, ``bounded_search``), what to say when the folder cannot be used
(``folder_problems``), and the usage of the last run (``usage``).

May import: ``replay.errors``, ``replay.core``.
"""

from replay.core.lazy_names import lazy_names

# The names 0.1's ``replay.store`` module held, from the modules that hold them now.
__getattr__ = lazy_names(
    __name__,
    {
        "DirectoryStore": "replay.store.directory",
        "MemoryStore": "replay.store.memory",
        "write_atomic": "replay.store.directory",
    },
)
