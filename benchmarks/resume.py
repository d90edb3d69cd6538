"""How long a resumed LangGraph run takes to pick its paid task up again.

Each round, side by side against the emulator's server on loopback:
    * a ``create_agent`` thread on ``SqliteSaver`` + ``SqliteStore`` files is started in a child
      process and SIGKILLed while its song tool waits (``tests/crash_worker.py``);
    * resumed: in this (warm) process, ``agent.invoke(None, config)`` on those files, timed from
      the call to the server receiving its first look-up of the journalled task;
    * fresh: the same agent on new files, ``agent.invoke(question, config)``, timed from the call
      to the server receiving its (paid) submission.
The ratio resumed / fresh says what finding the task in the journal costs next to starting one.
Then what the journal adds to one paid call: ``client.submit`` with a ``key=`` on a
``SqliteStore`` file (one read, one write) against the same call with no store, interleaved on
the in-process emulator.

    python benchmarks/resume.py [--rounds N]     # make bench runs it; --rounds 2 is quick
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from langchain_core.messages import HumanMessage
from langgraph.store.memory import InMemoryStore
from langgraph.store.sqlite import SqliteStore

from langchain_producer import Generate, ProducerClient
from langchain_producer.emulator import ProducerEmulator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from crash_resume import AUDIOS, TimedEmulator, start_and_kill  # noqa: E402
from crash_worker import THREAD, build, sync_persistence  # noqa: E402

KIND = "agent-sync"
LOOKUP = "/producer/tasks"


def one_round(fresh_first: bool) -> tuple[float, float]:
    """Seconds to pick a killed run's task up again, and for a fresh run to submit one."""
    emu = TimedEmulator(pending_seconds=0.2, processing_seconds=1.0)
    with (
        emu.serve() as server,
        tempfile.TemporaryDirectory() as killed,
        tempfile.TemporaryDirectory() as new,
    ):
        task_id = start_and_kill(KIND, "sqlite", emu, server, killed)
        timings: dict[str, float] = {}

        def run(place: str, first_input: object, path: str) -> None:
            with sync_persistence("sqlite", place) as (saver, store):
                agent = build(KIND, server.base_url, saver, store)
                started = time.monotonic()
                result = agent.invoke(first_input, THREAD)
                arrived = emu.first_after(started, path)
                assert arrived is not None and "Here is your song." in str(result["messages"][-1])
                timings[path] = arrived - started

        ask = {"messages": [HumanMessage("Make me a lo-fi beat.")]}
        for which in ["fresh", "resumed"] if fresh_first else ["resumed", "fresh"]:
            if which == "fresh":
                run(new, ask, AUDIOS)
            else:
                run(killed, None, LOOKUP)
        assert emu.submissions() == 2, (
            "one for the killed run (resumed, not resubmitted), one fresh"
        )
        assert emu.running(task_id) is False
        return timings[LOOKUP], timings[AUDIOS]


def journal_cost(calls: int) -> dict[str, float]:
    """Median seconds of a paid submission without a journal, and with one in memory / SQLite."""
    emu = ProducerEmulator()
    samples: dict[str, list[float]] = {"no store": [], "InMemoryStore": [], "SqliteStore": []}
    with (
        tempfile.TemporaryDirectory() as folder,
        SqliteStore.from_conn_string(str(Path(folder, "store.db"))) as sqlite,
    ):
        sqlite.setup()
        clients = {
            name: ProducerClient(api_key="bench", transport=emu.transport, store=store)
            for name, store in zip(samples, (None, InMemoryStore(), sqlite), strict=True)
        }
        names = list(samples)
        for index in range(calls):
            for name in names[index % 3 :] + names[: index % 3]:  # rotate the order
                started = time.perf_counter()
                clients[name].submit(Generate(prompt="x"), key=f"call-{index}")
                samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in samples.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args(argv).rounds
    resumed, fresh = [], []
    for index in range(rounds):
        pick_up, submit = one_round(fresh_first=index % 2 == 1)
        resumed.append(pick_up)
        fresh.append(submit)
    r, f = statistics.median(resumed), statistics.median(fresh)
    print(f"resume pick-up ({rounds} rounds, SqliteSaver + SqliteStore files, create_agent):")
    print(f"  resumed run -> first look-up of its journalled task: median {r * 1000:.1f} ms")
    print(f"  fresh run   -> its paid submission:                  median {f * 1000:.1f} ms")
    print(f"  ratio resumed / fresh: {r / f:.2f}x; paid submissions by resumed runs: 0")
    costs = journal_cost(calls=max(60, rounds * 40))
    base = costs["no store"]
    print("a paid submission on the in-process emulator (key=, one journal read and write):")
    for name, seconds in costs.items():
        extra = (seconds - base) * 1000
        print(
            f"  {name:14} median {seconds * 1000:6.2f} ms  {seconds / base:5.2f}x  +{extra:.2f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
