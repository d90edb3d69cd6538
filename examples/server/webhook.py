"""The webhook receiver, mounted in the Agent Server by ``langgraph.json`` ``"http"``.

With ``PRODUCER_CALLBACK_SECRET`` set, ``POST /producer/callback/<secret>`` takes the service's
callbacks: each is confirmed with one look-up of its task, recorded in the server's own store
(where the journal is), and a parked thread (graph ``producer_parked``) is woken with a new run
carrying the song. Without the secret the app has no routes.

The Agent Server does not authenticate custom routes: the secret in the path is the guard, so
keep it secret (``secrets.token_urlsafe(32)``) and keep it out of access logs.
"""

from __future__ import annotations

import os

from starlette.applications import Starlette

from langchain_producer import ProducerClient
from langchain_producer.webhooks import AgentServerStore, create_app, wake_parked_threads

secret = os.environ.get("PRODUCER_CALLBACK_SECRET")
app = (
    create_app(
        store=AgentServerStore(),
        secret=secret,
        client=ProducerClient(),
        on_confirmed=wake_parked_threads(),
    )
    if secret
    else Starlette()
)
