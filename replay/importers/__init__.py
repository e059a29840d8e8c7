"""Recordings of other recorders, converted: llama-stack/OGX files (``llama_stack``), the
google-genai calls they hold (``google_genai``), many files at once into a folder (``batch``),
and why a file cannot be imported (``not_importable``).

May import: ``replay.errors``, ``replay.core``, ``replay.store``.
"""
