"""The report of ``dfer build candidates``: counts per stage, scene and predicted expression.

Writes ``report/stages.png`` (clips left after each stage), ``report/scenes.png`` (each scene's
clips by outcome: final, removed in stage 4, capped, or the rule that rejected them),
``report/expressions.png`` (predicted expressions of the scored clips, of the final clips, and the
target), ``report/lengths.png`` (clip lengths cut and kept), the tables behind them as CSV, and
``report.html`` showing it all.
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd
from matplotlib.patches import Patch

from dfer import labels
from dfer.io.atomic import atomic_path, write_table
from dfer.io.figures import COLOURS, plt, save_png

STAGES = [("cut", "clips cut (stage 2)"), ("rules", "pass the rules (stage 3)"), ("cap", "after the caps (stage 3)"),
          ("scored", "scored (stage 4)"), ("final", "final candidates (stage 4)")]


def outcome(clips: pd.DataFrame) -> pd.Series:
    """One word per clip: ``final``, ``stage 4`` (removed by expression balance or unscorable),
    ``cap`` (oversample or per-video cap), or the rule that rejected it."""
    return pd.Series(
        [("final" if kept else rule if isinstance(rule, str) and rule else "cap" if stage == "rules" else "stage 4")
         for kept, rule, stage in zip(clips.kept, clips.rule, clips.stage)], index=clips.index, dtype=str)


def stage_counts(clips: pd.DataFrame) -> pd.DataFrame:
    """Clips that reached each stage."""
    order = [name for name, _ in STAGES]
    reached = clips.stage.map(order.index)
    return pd.DataFrame({"stage": order, "description": [d for _, d in STAGES],
                         "clips": [int((reached >= i).sum()) for i in range(len(order))]})


def scene_counts(videos: pd.DataFrame, clips: pd.DataFrame) -> pd.DataFrame:
    """Per scene: raw videos and seconds (all / kept by stage 1) and clips per outcome."""
    per_video = videos.groupby("scene").agg(videos=("video", "size"), seconds=("duration", "sum"))
    kept = videos[videos.kept].groupby("scene").agg(videos_kept=("video", "size"), seconds_kept=("duration", "sum"))
    outcomes = pd.crosstab(clips.scene, outcome(clips)) if len(clips) else pd.DataFrame()
    table = per_video.join(kept, how="left").join(outcomes, how="left").fillna(0)
    return table.reset_index()


def expression_counts(clips: pd.DataFrame, target: dict | None) -> pd.DataFrame:
    """Predicted expressions among scored clips and final clips, with the target shares."""
    scored = clips[clips.stage.isin(["scored", "final"])].predicted.value_counts()
    final = clips[clips.kept].predicted.value_counts()
    wanted = target or dict.fromkeys(labels.EXPRESSIONS, 1.0)
    total = sum(wanted.values())
    return pd.DataFrame({"expression": list(labels.EXPRESSIONS),
                         "scored": [int(scored.get(n, 0)) for n in labels.EXPRESSIONS],
                         "final": [int(final.get(n, 0)) for n in labels.EXPRESSIONS],
                         "target_share": [wanted.get(n, 0.0) / total for n in labels.EXPRESSIONS]})


def build_report(out: Path, videos: pd.DataFrame, clips: pd.DataFrame, target: dict | None = None) -> Path:
    """Write the plots, tables and ``report.html`` into ``out``; returns the HTML path."""
    folder = out / "report"
    folder.mkdir(parents=True, exist_ok=True)
    stages, scenes = stage_counts(clips), scene_counts(videos, clips)
    expressions = expression_counts(clips, target)
    reasons = outcome(clips).value_counts().rename_axis("outcome").reset_index(name="clips")
    for name, table in (("stages", stages), ("scenes", scenes), ("expressions", expressions), ("outcomes", reasons)):
        write_table(folder / f"{name}.csv", table)
    _plot_stages(stages, folder / "stages.png")
    _plot_scenes(scenes, folder / "scenes.png")
    _plot_expressions(expressions, folder / "expressions.png")
    _plot_lengths(clips, folder / "lengths.png")
    unreadable = videos[videos.reason.str.startswith(("unreadable", "preprocess failed"))]
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>dfer · candidate clips</title><style>"
             "body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;"
             "margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}"
             "img{max-width:100%}</style></head><body><h1>Candidate clips</h1>",
             f"<p>{len(videos)} raw videos in {videos.scene.nunique()} scenes; {int(videos.kept.sum())} kept by the "
             f"scene balance and preprocessed; {len(clips)} clips cut; {int(clips.kept.sum())} final candidates. "
             "Every clip's decisions are in <code>clips.csv</code>; every video's in <code>videos.csv</code>.</p>",
             "<h2>Stages</h2><img src='report/stages.png' alt='stages'>", _html_table(stages),
             "<h2>Outcomes</h2>", _html_table(reasons),
             "<h2>Scenes</h2><img src='report/scenes.png' alt='scenes'>", _html_table(scenes),
             "<h2>Predicted expressions</h2><img src='report/expressions.png' alt='expressions'>",
             _html_table(expressions), "<h2>Clip lengths</h2><img src='report/lengths.png' alt='lengths'>"]
    if len(unreadable):
        parts += ["<h2>Videos that could not be used</h2>", _html_table(unreadable[["video", "path", "reason"]])]
    parts.append("</body></html>")
    path = out / "report.html"
    with atomic_path(path) as partial:
        partial.write_text("\n".join(parts))
    return path


def _html_table(table: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>"
                   for row in table.itertuples(index=False))
    return f"<table><tr>{head}</tr>{body}</table>"


def _cell(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) and not float(value).is_integer() else str(
        int(value) if isinstance(value, float) else value)


def _save(figure, path: Path) -> None:
    figure.tight_layout()
    save_png(figure, path)


def _plot_stages(stages: pd.DataFrame, path: Path) -> None:
    figure, axis = plt.subplots(figsize=(7, 2.6))
    axis.barh(stages.description[::-1], stages.clips[::-1], color="#4c72b0")
    for y, value in enumerate(stages.clips[::-1]):
        axis.text(value, y, f" {value}", va="center")
    axis.set_xlabel("clips")
    _save(figure, path)


def _plot_scenes(scenes: pd.DataFrame, path: Path) -> None:
    columns = [c for c in scenes.columns if c not in ("scene", "videos", "seconds", "videos_kept", "seconds_kept")]
    figure, axis = plt.subplots(figsize=(max(6, 0.45 * len(scenes) + 3), 3.5))
    bottom = pd.Series(0.0, index=scenes.index)
    for column in sorted(columns, key=lambda c: (c != "final", c)):
        axis.bar(scenes.scene, scenes[column], bottom=bottom, label=column,
                 color="#2ca02c" if column == "final" else None)
        bottom += scenes[column]
    axis.set_ylabel("clips")
    axis.tick_params(axis="x", rotation=60)
    if columns:
        axis.legend(fontsize=7, loc="upper right")
    _save(figure, path)


def _plot_expressions(expressions: pd.DataFrame, path: Path) -> None:
    figure, axis = plt.subplots(figsize=(7, 3))
    x = range(len(expressions))
    for offset, column, alpha in ((-0.27, "scored", 0.45), (0.0, "final", 1.0)):
        counts = expressions[column]
        shares = counts / max(counts.sum(), 1)
        axis.bar([i + offset for i in x], shares, width=0.27, alpha=alpha, color=[COLOURS[n] for n in expressions.expression])
    axis.bar([i + 0.27 for i in x], expressions.target_share, width=0.27, fill=False, hatch="//")
    axis.set_xticks(list(x), expressions.expression)
    axis.set_ylabel("share of clips")
    axis.legend(handles=[Patch(color="#777", alpha=0.45, label=f"scored ({expressions.scored.sum()})"),
                         Patch(color="#777", label=f"final ({expressions.final.sum()})"),
                         Patch(fill=False, hatch="//", label="target")], fontsize=8)
    _save(figure, path)


def _plot_lengths(clips: pd.DataFrame, path: Path) -> None:
    figure, axis = plt.subplots(figsize=(7, 2.6))
    lengths = clips.end - clips.start
    if len(clips):
        bins = 16
        axis.hist(lengths, bins=bins, alpha=0.5, label="cut")
        axis.hist(lengths[clips.kept.astype(bool)], bins=bins, label="final")
        axis.legend(fontsize=8)
    axis.set_xlabel("clip length (s)")
    axis.set_ylabel("clips")
    _save(figure, path)
