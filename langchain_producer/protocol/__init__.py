"""The Producer protocol, sans-IO: every request, answer, retry and wait as a pure plan.

A plan is a generator that yields steps (``steps``: send this request, sleep, read the clock,
look a task up, run this effect) and is answered by a driver (``langchain_producer.drivers``);
nothing here opens a socket, reads a clock or starts a thread, so sync and async share every line.

- ``steps``: the plan protocol (the steps a plan may yield and what each is answered with).
- ``wire``: request paths and bodies.
- ``answers``: bytes to JSON, bounded and total.
- ``tasks``: a task's state and songs from its record; ``results``: the answers that come at once
  (lyrics, upload, video, WAV).
- ``retry``: one request with retries, and the service's errors.
- ``polling``: look-ups and waiting.
- ``paid_calls``: a paid call once per journal key (journal look-up, approval, send, record).
- ``operations``: each API operation, its input checked, built from the above.

May import: the vocabulary (``_constants``, ``params``, ``models``, ``errors``, ``settings``) and
``langchain_producer.safety`` (the journal entries a paid call records). Never the drivers,
the client or the tools.
"""
