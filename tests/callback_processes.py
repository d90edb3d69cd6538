"""The two processes of the PostgreSQL callback test (``tests/test_postgres.py``), one each:

* ``receiver PORT``: the webhook receiver under uvicorn on ``127.0.0.1:PORT``, recording in the
  ``PostgresStore`` at ``PRODUCER_TEST_DSN`` and confirming with the service at
  ``ACEDATACLOUD_API_BASE_URL``.
* ``wait CALLBACK_URL``: one song submitted with ``callback_url`` and the same store, waited for
  (the safety poll an hour away, so only the receiver's record can end it in time); prints one
  JSON line: the task id, its state and when the wait ended (UTC).

Both read the API key and base URL from the environment like any deployment; the store's
tables are set up by the test before either starts.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime

from langgraph.store.postgres import PostgresStore

from langchain_producer import Generate, ProducerClient

SECRET_ENV = "PRODUCER_CALLBACK_SECRET"


def receiver(port: int) -> None:
    import uvicorn

    from langchain_producer.webhooks import create_app

    with PostgresStore.from_conn_string(os.environ["PRODUCER_TEST_DSN"]) as store:
        app = create_app(store=store, secret=os.environ[SECRET_ENV], client=ProducerClient())
        # No access log: the request line holds the secret path.
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def wait(url: str) -> None:
    with PostgresStore.from_conn_string(os.environ["PRODUCER_TEST_DSN"]) as store:
        client = ProducerClient(callback_url=url, store=store, callback_poll_interval=3600)
        task = client.submit(Generate(prompt="lo-fi"), wait=True, max_wait=60, key="two-processes")
        ended = datetime.now(UTC)
    print(json.dumps({"task_id": task.task_id, "state": task.state, "ended": ended.isoformat()}))


if __name__ == "__main__":
    role, argument = sys.argv[1:3]
    receiver(int(argument)) if role == "receiver" else wait(argument)
