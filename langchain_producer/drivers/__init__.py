"""What runs the protocol's plans: the only code here with sockets, clocks and threads.

- ``driver``: answers a plan's steps with httpx (sync or async), a clock and randomness.
- ``lookups``: concurrent waits of one client share their look-ups (one batch request for many
  waiting tasks, on threads or on an event loop).
- ``listening``: waits that listen for a task's confirmed callback in the store (and the
  process-local registry the webhook receiver signals), with the store namespace it writes.

May import: ``langchain_producer.protocol`` and the vocabulary. Never the client or the tools:
the client hands a driver what it needs (its http clients, base URL and headers).
"""
