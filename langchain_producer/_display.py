"""HTML views of songs and tasks for Jupyter (``_repr_html_``)."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from langchain_producer.models import ProducerTask, Song


def song_html(song: Song) -> str:
    title = escape(song.title or song.id or "Untitled")
    facts = [f"<b>{title}</b>"]
    if song.duration is not None:
        facts.append(f"{song.duration:.1f} s")
    if song.model:
        facts.append(escape(song.model))
    media = ""
    if song.image_url:
        media += f'<img src="{escape(song.image_url)}" width="96" style="float:left;margin:4px">'
    if song.audio_url:
        media += f'<audio controls preload="none" src="{escape(song.audio_url)}"></audio>'
    elif song.preview_url:
        media += "<i>preview only: the song is not finished</i>"
    if song.stems_url:
        media += f'<a href="{escape(song.stems_url)}">stems (zip)</a>'
    return f'<div style="overflow:hidden">{media}<div>{" · ".join(facts)}</div></div>'


def task_html(task: ProducerTask) -> str:
    head = f"<div>Producer task <code>{escape(task.task_id)}</code>: <b>{task.state}</b>"
    if task.error:
        head += f" ({escape(task.error.code or '')} {escape(task.error.message or '')})"
    head += "</div>"
    return head + "".join(song_html(song) for song in task.songs)
