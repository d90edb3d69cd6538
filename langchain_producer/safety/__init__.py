"""Paid-call safety on LangGraph: what keeps a paid job from being lost, repeated or unapproved.

- ``journal``: every accepted paid call recorded in a LangGraph ``BaseStore`` before any waiting,
  so a crash, redeploy or resume finds it instead of paying again.
- ``spending``: the toolkit's limits on paid calls (in all, per thread) and what was spent;
  ``ledgers``: where those counts live (memory, a store).
- ``approval``: a human's yes before a paid call, through LangGraph's ``interrupt()``.

May import: the vocabulary (``errors``, ``models``, ``params``), langchain-core and LangGraph's
public API. Never the protocol, the drivers, the client or the tools.
"""
