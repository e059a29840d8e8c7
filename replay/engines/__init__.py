"""The servers recordings are made against, started on need: llama-cpp-python's server
(``llama_cpp_python``), llama.cpp's native server from xllamacpp (``native_server``), and which
of them answers which endpoint behind one base URL (``selection``). A new engine is a new
module here and an entry in ``selection``.

May import: ``replay.errors``, ``replay.core``.
"""
