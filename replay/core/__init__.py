"""The pure core: what a request and a recording are, with no I/O and no pytest.

Owns: the request as the core knows it (``request``) and its hash (``hashing``); the recording
and its file format (``recording``, ``typed_events``, ``sse``, ``jsonfast``); what changes on
every call (``volatile``); redaction and the secret scan (``redaction``, ``secret_scan``);
when a response is complete (``completeness``, ``content_decoding``) and replayable
(``replayable``); the recorder's tap (``recorder``); the answer reassembled from events
(``reassembly``); the JSON diff of a miss (``json_diff``); the record modes, the session's
counts, and which HTTP module (httpx or httpx2) an SDK speaks (``http_flavours``); the product's
names and version (``product``); names a package answers on first use (``lazy_names``).

May import: ``replay.errors`` and itself. Everything else imports it.
"""
