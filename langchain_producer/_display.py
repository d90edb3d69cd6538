"""HTML views of songs and tasks for Jupyter (``_repr_html_``).

Every value that came from the service (titles, lyrics, URLs, error messages) is HTML-escaped, and
only http(s) URLs are ever put into ``src``/``href``: a title or link can never inject markup or a
``javascript:`` URL into the notebook. A preview (the streaming audio of a running task) is shown
labelled as such, never as the finished song.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Protocol

# What the views read of a song and of a task (``models.Song`` and ``models.ProducerTask`` have
# it all): the models import this module to render themselves, never the other way round.


class SongView(Protocol):
    @property
    def id(self) -> str | None: ...
    @property
    def title(self) -> str | None: ...
    @property
    def lyric(self) -> str | None: ...
    @property
    def audio_url(self) -> str | None: ...
    @property
    def preview_url(self) -> str | None: ...
    @property
    def image_url(self) -> str | None: ...
    @property
    def video_url(self) -> str | None: ...
    @property
    def stems_url(self) -> str | None: ...
    @property
    def duration(self) -> float | None: ...
    @property
    def model(self) -> str | None: ...
    @property
    def state(self) -> str | None: ...
    @property
    def progress(self) -> float | None: ...


class _Error(Protocol):
    @property
    def code(self) -> str | None: ...
    @property
    def message(self) -> str | None: ...


class TaskView(Protocol):
    @property
    def task_id(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def action(self) -> str | None: ...
    @property
    def is_terminal(self) -> bool: ...
    @property
    def progress(self) -> float | None: ...
    @property
    def elapsed(self) -> float | None: ...
    @property
    def error(self) -> _Error | None: ...
    @property
    def songs(self) -> Sequence[SongView]: ...


_STATE_COLOURS = {
    "pending": "#8a8a8a",
    "processing": "#c98a00",
    "complete": "#2e7d32",
    "failed": "#c62828",
}
_BOX = (
    "border:1px solid #ddd;border-radius:6px;padding:8px;margin:4px 0;overflow:hidden;"
    "font-family:sans-serif;font-size:13px"
)


def _url(value: str | None) -> str | None:
    """``value`` escaped for an attribute, or None unless it is an http(s) URL."""
    if not value:
        return None
    if not value.strip().lower().startswith(("http://", "https://")):
        return None
    return escape(value.strip(), quote=True)


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}:{rest:02d}"


def _fact(label: str, value: str) -> str:
    return f"<span style='color:#666'>{escape(label)}</span> {escape(value)}"


def song_html(song: SongView) -> str:
    """A song: cover art, a player (or a labelled preview), title and key facts, links."""
    title = escape(song.title or song.id or "Untitled")
    facts: list[str] = []
    if song.duration is not None:
        facts.append(_fact("duration", _duration(song.duration)))
    if song.model:
        facts.append(_fact("model", song.model))
    if song.state:
        facts.append(_fact("state", song.state))
    if song.progress is not None and song.progress < 100:
        facts.append(_fact("progress", f"{song.progress:.0f}%"))
    if song.id:
        facts.append(_fact("id", song.id))

    parts: list[str] = []
    image = _url(song.image_url)
    if image:
        parts.append(
            f'<img src="{image}" alt="cover" width="96" height="96" '
            'style="float:left;margin:0 10px 4px 0;border-radius:4px;object-fit:cover">'
        )
    parts.append(f"<div><b>{title}</b></div>")
    if facts:
        parts.append(f"<div>{' · '.join(facts)}</div>")

    audio = _url(song.audio_url)
    preview = _url(song.preview_url)
    if audio:
        parts.append(f'<audio controls preload="none" src="{audio}"></audio>')
    elif preview:
        parts.append(
            "<div style='color:#c98a00'><b>PREVIEW</b>, not the final song: the task is still "
            "running.</div>"
            f'<audio controls preload="none" src="{preview}"></audio>'
        )
    links = [
        f'<a href="{href}" target="_blank" rel="noopener">{label}</a>'
        for label, href in (
            ("audio", audio),
            ("stems (zip)", _url(song.stems_url)),
            ("video", _url(song.video_url)),
        )
        if href
    ]
    if links:
        parts.append(f"<div>{' · '.join(links)}</div>")
    if song.lyric:
        parts.append(
            "<details><summary>lyrics</summary>"
            f"<pre style='white-space:pre-wrap'>{escape(song.lyric)}</pre></details>"
        )
    return f'<div style="{_BOX}">{"".join(parts)}</div>'


def task_html(task: TaskView) -> str:
    """A task: its id, state, progress, timings, error, then each of its songs."""
    colour = _STATE_COLOURS.get(task.state, "#444")
    head = [
        f"<b>Producer task</b> <code>{escape(task.task_id)}</code>",
        f"<span style='color:{colour};font-weight:bold'>{escape(task.state)}</span>",
    ]
    if task.action:
        head.append(_fact("action", task.action))
    if not task.is_terminal:
        if task.progress is not None:
            head.append(_fact("progress", f"{task.progress:.0f}%"))
        head.append("<i>still running: any audio below is a preview, not the final song</i>")
    if task.elapsed is not None:
        head.append(_fact("took", f"{task.elapsed:.0f} s"))
    html = f"<div>{' · '.join(head)}</div>"
    if task.error:
        code = escape(task.error.code or "error")
        message = escape(task.error.message or "")
        html += f"<div style='color:#c62828'><b>{code}</b> {message}</div>"
    if task.state == "failed" and task.songs:
        html += "<div><i>partial songs kept from the failed task:</i></div>"
    html += "".join(song_html(song) for song in task.songs)
    return f'<div style="font-family:sans-serif">{html}</div>'
