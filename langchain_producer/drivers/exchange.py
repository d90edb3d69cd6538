"""One HTTP exchange, read the one way every driver reads: the request sent without following a
redirect (a redirected paid POST would create, and bill, a job on another host), the raw body
collected up to the cap (``protocol.answers.Collector``), and any exception of a transport
returned as the outcome, never raised: the plan that asked decides what it means."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from langchain_producer.protocol.answers import Collector, Reply

Build = Callable[[], httpx.Request]
"""Makes the request (inside the exchange: a request that cannot be built is a failed one)."""


def exchange(http: httpx.Client, build: Build, too_large: str) -> Reply | Exception:
    """Send the request ``build`` makes and read its answer (``too_large`` names an answer
    over the cap)."""
    try:
        response = http.send(build(), stream=True, follow_redirects=False)
    except Exception as error:  # reported to the plan, which decides
        return error
    collector = Collector(response)
    try:
        for chunk in collector.already_read() or response.iter_raw():
            if not collector.add(chunk):
                return collector.reply(too_large)
    except Exception as error:  # a body cut short: keep what arrived
        return collector.reply(error)
    finally:
        response.close()
    return collector.reply()


async def aexchange(http: httpx.AsyncClient, build: Build, too_large: str) -> Reply | Exception:
    """Async ``exchange``."""
    try:
        response = await http.send(build(), stream=True, follow_redirects=False)
    except Exception as error:  # reported to the plan, which decides
        return error
    collector = Collector(response)
    try:
        for chunk in collector.already_read():
            collector.add(chunk)
        async for chunk in collector.unread(response):
            if not collector.add(chunk):
                return collector.reply(too_large)
    except Exception as error:  # a body cut short: keep what arrived
        return collector.reply(error)
    finally:
        await response.aclose()
    return collector.reply()
