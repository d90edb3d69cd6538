"""How the benchmarks measure: interleaved rounds, medians, ratios, tables, request counts.

These machines are noisy, so variants are interleaved in round-robin blocks (the order rotates
every round) and only medians measured side by side in one run are compared.
"""

import gc
import json
import random
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator

import httpx

from langchain_producer.emulator import ProducerEmulator

TOKEN = "bench"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TASKS_PATH = "/producer/tasks"
Samples = dict[str, list[int]]  # variant -> per-call durations in ns


def _rotation(names: list[str], rounds: int, block: int) -> Iterator[str]:
    """The order of calls: each variant in blocks of ``block``, the block order rotating every
    round, so drifts of the machine hit every variant alike."""
    for r in range(rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            yield from [name] * block


def interleave(variants: dict[str, Callable[[], object]], rounds: int, block: int) -> Samples:
    """Time each variant in blocks of ``block`` calls, rotating the order every round."""
    names = list(variants)
    for name in names:  # warm-up: connections, caches, lazy imports
        for _ in range(max(5, block)):
            variants[name]()
    samples: Samples = {name: [] for name in names}
    gc.collect()
    for name in _rotation(names, rounds, block):
        start = time.perf_counter_ns()
        variants[name]()
        samples[name].append(time.perf_counter_ns() - start)
    return samples


async def ainterleave(
    variants: dict[str, Callable[[], Awaitable[object]]], rounds: int, block: int
) -> Samples:
    """``interleave`` for coroutine functions, on the running event loop."""
    names = list(variants)
    for name in names:
        for _ in range(max(5, block)):
            await variants[name]()
    samples: Samples = {name: [] for name in names}
    gc.collect()
    for name in _rotation(names, rounds, block):
        start = time.perf_counter_ns()
        await variants[name]()
        samples[name].append(time.perf_counter_ns() - start)
    return samples


def summarize(samples: Samples, baseline: str) -> dict[str, dict[str, float]]:
    """Median, p10 and p90 in microseconds, the ratio to ``baseline`` and the extra cost."""
    base = statistics.median(samples[baseline]) / 1000
    out: dict[str, dict[str, float]] = {}
    for name, values in samples.items():
        ordered = sorted(values)
        median = statistics.median(ordered) / 1000
        out[name] = {
            "n": len(ordered),
            "median_us": round(median, 1),
            "p10_us": round(ordered[len(ordered) // 10] / 1000, 1),
            "p90_us": round(ordered[(len(ordered) * 9) // 10] / 1000, 1),
            "ratio": round(median / base, 2),
            "extra_us": round(median - base, 1),
        }
    return out


def ratio_interval(
    samples: Samples, numerator: str, denominator: str, block: int, draws: int = 2000
) -> tuple[float, float]:
    """A 95% interval of median(numerator) / median(denominator), by resampling rounds.

    Each round holds one block of each variant, timed close together, so a round is the unit
    the machine's drifts act on: rounds are drawn with replacement (seeded, so a run is
    reproducible from its samples) and the ratio of the pooled medians is taken each time.
    """
    top, bottom = samples[numerator], samples[denominator]
    rounds = min(len(top), len(bottom)) // block
    chunks = [
        (top[r * block : (r + 1) * block], bottom[r * block : (r + 1) * block])
        for r in range(rounds)
    ]
    draw = random.Random(0).choices
    ratios = []
    for _ in range(draws):
        picked = draw(chunks, k=rounds)
        ratios.append(
            statistics.median([v for chunk, _ in picked for v in chunk])
            / statistics.median([v for _, chunk in picked for v in chunk])
        )
    ratios.sort()
    return round(ratios[int(draws * 0.025)], 2), round(ratios[int(draws * 0.975) - 1], 2)


def table(title: str, rows: list[list[str]], header: list[str]) -> None:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    line = "  ".join(
        h.ljust(w) if i == 0 else h.rjust(w)
        for i, (h, w) in enumerate(zip(header, widths, strict=True))
    )
    print(line)
    print("-" * len(line))
    for row in rows:
        print(
            "  ".join(
                str(c).ljust(w) if i == 0 else str(c).rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )


def timing_table(title: str, stats: dict[str, dict[str, float]], target: str = "") -> None:
    rows = [
        [name, s["median_us"], s["p10_us"], s["p90_us"], f"{s['ratio']:.2f}x", s["extra_us"]]
        for name, s in stats.items()
    ]
    table(
        title + (f"  [{target}]" if target else ""),
        rows,
        ["variant", "median us", "p10 us", "p90 us", "ratio", "extra us"],
    )


def tasks_lookups(emu: ProducerEmulator, since: int) -> dict[str, int]:
    """Look-up requests the emulator received from index ``since`` on, and the ids they named."""
    requests = ids = 0
    for request in emu.requests[since:]:
        if request.url.path != TASKS_PATH:
            continue
        requests += 1
        body = json.loads(request.content or b"{}")
        ids += len(body.get("ids") or []) if body.get("action") == "retrieve_batch" else 1
    return {"requests": requests, "ids_looked_up": ids}


def finished_task(post: Callable[..., httpx.Response]) -> str:
    """Submit a blocking generate (the emulator is set to finish at once) and return its id."""
    answer = post("/producer/audios", json={"action": "generate", "prompt": "bench"})
    answer.raise_for_status()
    return str(answer.json()["task_id"])
