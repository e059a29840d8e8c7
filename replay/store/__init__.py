"""Where recordings live: the ``Store`` protocol the player needs, a folder of files laid out by
test (``directory``, ``layout``), recordings in memory (``memory``), bounded reading of files
(``file_reading``, ``bounded_search``), what to say when the folder cannot be used
(``folder_problems``), and the usage of the last run (``usage``).

May import: ``replay.errors``, ``replay.core``.
"""
