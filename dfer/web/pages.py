"""Server-rendered pages of ``dfer annotate serve``: plain HTML, with the labelling logic in
``static/label.js`` (no build step). Every value put into a page is escaped."""

from __future__ import annotations

import json
from html import escape
from string import ascii_lowercase
from typing import TYPE_CHECKING

from dfer import labels

if TYPE_CHECKING:
    import pandas as pd


def layout(title: str, body: str, script: str = "") -> str:
    scripts = f'<script src="/static/{script}" defer></script>' if script else ""
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)} · dfer annotate'
            f'</title><meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<link rel="stylesheet" href="/static/style.css">{scripts}</head><body>{body}</body></html>')


def script_json(value) -> str:
    """``value`` as JSON safe inside a <script> element (whose text HTML does not unescape)."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def message(title: str, text: str) -> str:
    return layout(title, f"<main><h1>{escape(title)}</h1><p>{escape(text)}</p></main>")


def copy_list(worker_id: str, copies: list[dict], videos: list[dict] = ()) -> str:
    """An annotator's home page: their sets of clips and their long videos to mark, with progress."""
    rows = "".join(
        f'<tr><td><a href="/copy/{escape(c["copy_id"])}">'
        f'{"clips to relabel" if c["copy_id"] == "relabel" else f"set {number}"}</a></td>'
        f'<td>{c["answered"]} / {c["total"]}</td><td>{"submitted" if c["submitted"] else "open"}</td></tr>'
        for number, c in enumerate(copies, start=1))
    table = (f"<table><tr><th>set</th><th>answered</th><th>state</th></tr>{rows}</table>" if copies
             else "<p>No clips are assigned to you.</p>")
    if videos:
        marked = "".join(
            f'<tr><td><a href="/mark/{escape(v["marking_id"])}">video {number}</a></td><td>{v["marks"]} marked</td>'
            f'<td>{v["frames"]} frames</td><td>{"submitted" if v["submitted"] else "open"}</td></tr>'
            for number, v in enumerate(videos, start=1))
        table += f"<h2>Long videos to mark</h2><table><tr><th>video</th><th>intervals</th><th>length</th>" \
                 f"<th>state</th></tr>{marked}</table>"
    return layout("your clips", f"<main><h1>Clips for {escape(worker_id)}</h1>{table}</main>")


def shortcuts(choices: list[tuple[str, str]], numbered: bool = False) -> dict[str, str]:
    """Keyboard key → word: the (word, expression) choices in their order on a–z, PASS on 0; or,
    ``numbered`` (DFEW's 7 classes, no PASS), on 1, 2, …"""
    if numbered:
        return {str(number): word for number, (word, _) in enumerate(choices, start=1)}
    return {**dict(zip(ascii_lowercase, (word for word, _ in choices))), "0": "PASS"}


def labelling(copy_id: str, choices: list[tuple[str, str]], keys: dict[str, str]) -> str:
    """The labelling page of one copy: the clip, playback controls, the (word, expression) choices
    under their expressions, each with its key."""
    key_of = {word: key for key, word in keys.items()}
    groups = []
    for expression in labels.EXPRESSIONS:
        members = [w for w, e in choices if e == expression]
        if not members:
            continue
        buttons = "".join(f'<button type="button" class="word" data-word="{escape(w)}">'
                          f'<kbd>{escape(key_of.get(w, ""))}</kbd> {escape(w)}</button>' for w in members)
        groups.append(f'<fieldset><legend>{escape(expression)}</legend>{buttons}</fieldset>')
    if "PASS" in keys.values():
        groups.append('<fieldset><legend>none of these</legend><button type="button" class="word" '
                      'data-word="PASS"><kbd>0</kbd> PASS</button></fieldset>')
    body = f"""<main class="label">
<header><a href="/">← all sets</a> <span id="progress" aria-live="polite"></span> <span id="status"></span></header>
<section class="player">
  <video id="clip" muted loop autoplay playsinline preload="auto"></video>
  <div class="controls">
    <button type="button" id="previous" title="previous clip (←)">◀ previous</button>
    <button type="button" id="back" title="one frame back (,)">−1 frame</button>
    <button type="button" id="play" title="play / pause (space)">play / pause</button>
    <button type="button" id="forward" title="one frame on (.)">+1 frame</button>
    <label>speed <select id="speed">{''.join(f'<option value="{s}"{" selected" if s == 1 else ""}>{s}×</option>'
                                              for s in (0.25, 0.5, 1, 1.5, 2))}</select></label>
    <button type="button" id="next" title="next clip (→)">next ▶</button>
  </div>
</section>
<section class="words">{''.join(groups)}</section>
<footer><button type="button" id="submit" disabled>submit this set</button></footer>
<script type="application/json" id="config">{script_json({"copy": copy_id, "keys": keys})}</script>
</main>"""
    return layout("label clips", body, script="label.js")


#: SDFE-LV's categories, keys 1–6.
CATEGORY_NAMES = {1: "angry", 2: "disgust", 3: "fear", 4: "happy", 5: "sad", 6: "surprise"}


def marking(marking_id: str) -> str:
    """The SDFE-LV marking page: a long video, frame-exact stepping, onset/offset keys, the timeline."""
    categories = "".join(f'<button type="button" class="category" data-category="{code}"><kbd>{code}</kbd> '
                         f'{name}</button>' for code, name in CATEGORY_NAMES.items())
    body = f"""<main class="mark">
<header><a href="/">← all videos</a> <span id="position" aria-live="polite"></span> <span id="status"></span></header>
<section class="player"><video id="video" muted playsinline preload="auto"></video></section>
<div id="timeline" title="click to go there"><div id="cursor"></div></div>
<div class="controls">
  <button type="button" id="play" title="space">play / pause</button>
  <label>speed <select id="speed">{''.join(f'<option value="{s}"{" selected" if s == 1 else ""}>{s}×</option>'
                                            for s in (0.25, 0.5, 1, 1.5, 2))}</select></label>
  <span>onset <b id="onset">–</b> <kbd>[</kbd></span> <span>offset <b id="offset">–</b> <kbd>]</kbd></span>
  <span class="categories">{categories}</span>
</div>
<p class="help">←/→ one frame, shift+←/→ one second, <kbd>[</kbd> onset and <kbd>]</kbd> offset at the
shown frame, then 1–6 the category to save the interval; click an interval to change it.</p>
<table id="marks"><thead><tr><th>onset</th><th>offset</th><th>category</th><th></th></tr></thead><tbody></tbody></table>
<footer><button type="button" id="submit">submit this video</button></footer>
<script type="application/json" id="config">{script_json({"marking": marking_id, "categories": CATEGORY_NAMES})}</script>
</main>"""
    return layout("mark expressions", body, script="mark.js")


def dashboard(figures: dict[str, str], tables: dict[str, pd.DataFrame], note: str = "") -> str:
    """The admin's page: headline figures, the QC and reassign buttons, and one table per view."""
    facts = "".join(f"<li><b>{escape(name)}</b> {escape(value)}</li>" for name, value in figures.items())
    actions = ('<form method="post" action="/admin/qc"><button type="submit">run quality control</button></form>'
               '<form method="post" action="/admin/reassign"><button type="submit">send unacceptable sets back to '
               'the crowd</button></form>'
               '<form method="post" action="/admin/export"><label>candidates <input name="candidates" '
               'value="candidates.csv" size="16"></label> <label>as <select name="format"><option>ferv39k</option>'
               '<option>dfew</option></select></label> <label>named <input name="name" size="12" required></label> '
               '<button type="submit">aggregate and export</button></form>')
    sections = "".join(f"<h2>{escape(title)}</h2>" + (table.to_html(index=False, escape=True, na_rep="–",
                                                                     classes="data", border=0)
                                                       if len(table) else "<p>none yet</p>")
                       for title, table in tables.items())
    flash = f'<p class="note" role="status">{escape(note)}</p>' if note else ""
    body = (f'<main class="admin"><h1>Annotation progress</h1>{flash}<ul class="figures">{facts}</ul>'
            f'<div class="actions">{actions}</div>{sections}</main>')
    return layout("admin", body)
