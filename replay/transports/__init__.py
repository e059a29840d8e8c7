"""The HTTP stacks a request arrives through: the httpx and httpx2 transport over the player
(``httpx_transport``), interception of clients the application builds itself
(``interception``), and the hosted providers whose requests never leave the machine
(``providers``). One module per stack; a new stack is a new module here.

May import: ``replay.errors``, ``replay.core``, ``replay.shaping``, ``replay.player``.
"""
