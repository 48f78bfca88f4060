"""Timeline plot, self-contained HTML report and files of a :class:`PredictionResult`."""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np

from dfer import labels
from dfer.io.atomic import atomic_path, replaced_folder, write_json, write_table
from dfer.io.figures import COLOURS, plt, png_base64, save_png


def timeline(result, path: str | Path | None = None):
    """Per track: face thumbnails over time, the segments as a labelled colour band, and the stacked
    expression probabilities. Returns the matplotlib figure."""
    tracks = result.tracks
    if not tracks:
        figure, axis = plt.subplots(figsize=(10, 1.6))
        axis.text(0.5, 0.5, f"no face found in {Path(result.video).name}", ha="center", va="center")
        axis.axis("off")
    else:
        width, heights = 12.0, [0.9, 0.35, 2.0]
        figure = plt.figure(figsize=(width, sum(heights) * len(tracks) + 0.9 * len(tracks) + 0.4))
        grid = figure.add_gridspec(3 * len(tracks), 1, height_ratios=heights * len(tracks), hspace=0.12)
        end = max(result.info.duration, float(result.frames.time.max()))
        for index, track in enumerate(tracks):
            axes = [figure.add_subplot(grid[3 * index + row]) for row in range(3)]
            _track_panel(axes, result, track, end, thumbnail_seconds=end * heights[0] / (width * 0.8))
        axes[-1].set_xlabel("time (s)")
        handles = [plt.Rectangle((0, 0), 1, 1, color=COLOURS[name]) for name in labels.EXPRESSIONS]
        figure.legend(handles, labels.EXPRESSIONS, loc="lower center", ncol=7, frameon=False)
        figure.subplots_adjust(left=0.07, right=0.98, top=0.95, bottom=0.35 / figure.get_figheight() * 2.2)
    if path is not None:
        save_png(figure, path, close=False)
    return figure


def _track_panel(axes, result, track: int, end: float, thumbnail_seconds: float) -> None:
    strip, band, probabilities = axes
    rows = result.frames[result.frames.track == track].sort_values("time")
    times = rows.time.to_numpy()
    # gaps (face lost) are left blank rather than bridged
    gap = np.flatnonzero(np.diff(times) > 3 * np.median(np.diff(times))) + 1 if len(times) > 2 else []
    for piece in np.split(np.arange(len(rows)), gap):
        part = rows.iloc[piece]
        probabilities.stackplot(part.time, *[part[name] for name in labels.EXPRESSIONS],
                                colors=[COLOURS[name] for name in labels.EXPRESSIONS], alpha=0.85, linewidth=0)
    period = 1.0 / result.info.fps if result.info.fps else 0.04
    for span in result.segments[result.segments.track == track].itertuples():
        band.add_patch(plt.Rectangle((span.onset, 0), span.offset - span.onset + period, 1, color=COLOURS[span.label]))
        if span.offset - span.onset > end / 40:
            band.text((span.onset + span.offset + period) / 2, 0.5, span.label, ha="center", va="center",
                      fontsize=8)
        probabilities.axvline(span.onset, color="black", linewidth=0.6, alpha=0.6)
    for time, image in result.thumbnails.get(track, []):
        strip.imshow(image, extent=(time, time + thumbnail_seconds, 0, 1), aspect="auto")
    for axis in axes:
        axis.set_xlim(0, end)
    for axis in (strip, band):
        axis.set_ylim(0, 1)
        axis.set_yticks([])
        axis.set_xticks([])
    probabilities.set_ylim(0, 1)
    probabilities.set_ylabel("probability")
    strip.set_title(f"track {track}", loc="left", fontsize=10)
    band.set_ylabel("segments", rotation=0, ha="right", va="center", fontsize=8)


#: Videos up to this size are embedded in the report (it then plays anywhere); larger ones are linked.
EMBED_BYTES = 10 * 1024 * 1024

PLAYER_SCRIPT = """
const video = document.getElementById('video');
const head = document.getElementById('playhead');
const lanes = document.getElementById('lanes');
function seek(seconds) { video.currentTime = seconds; document.body.dataset.sought = String(seconds); }
video.addEventListener('timeupdate', () => {
  if (video.duration) head.style.left = (100 * video.currentTime / video.duration) + '%';
});
lanes.addEventListener('click', (event) => {
  const segment = event.target.closest('.segment');
  if (segment) { seek(Number(segment.dataset.onset)); return; }
  const box = lanes.getBoundingClientRect();
  if (video.duration) seek(video.duration * (event.clientX - box.left) / box.width);
});
for (const row of document.querySelectorAll('tr[data-onset]')) {
  row.addEventListener('click', () => seek(Number(row.dataset.onset)));
}
"""


def player(result, video_src: str) -> str:
    """The video and one lane per track with its segments, the playhead moving as it plays;
    clicking a lane or a segment (or a segment's row) seeks the video there."""
    end = max(result.info.duration, float(result.frames.time.max()) if len(result.frames) else 0.0) or 1.0
    lanes = []
    for track in result.tracks:
        spans = "".join(
            f"<div class='segment' title='{html.escape(s.label)} {s.onset:.2f}–{s.offset:.2f} s' "
            f"data-onset='{s.onset:.6f}' style='left:{100 * s.onset / end:.4f}%;"
            f"width:{max(0.2, 100 * (s.offset - s.onset) / end):.4f}%;background:{COLOURS.get(s.label, '#999')}'>"
            f"</div>" for s in result.segments[result.segments.track == track].itertuples())
        lanes.append(f"<div class='lane' data-track='{track}'><span class='name'>track {track}</span>{spans}</div>")
    return ("<style>#player video{max-width:100%;max-height:60vh;background:#000}#lanes{position:relative;"
            "margin:.5em 0;cursor:pointer}.lane{position:relative;height:22px;background:#eee;margin:3px 0}"
            ".lane .name{position:absolute;left:4px;font-size:11px;color:#555;z-index:1}.segment{position:absolute;"
            "top:0;height:22px;opacity:.9}#playhead{position:absolute;top:0;bottom:0;width:2px;background:#c00;"
            "left:0;z-index:2}tr[data-onset]{cursor:pointer}</style>"
            f"<section id='player'><video id='video' controls preload='metadata' src='{html.escape(video_src)}'>"
            "</video><div id='lanes'>" + "".join(lanes) + "<div id='playhead'></div></div>"
            "<p>Click a segment, a lane or a row of the tables below to go there.</p></section>")


def video_source(result, folder: Path, annotated: bool) -> str:
    """What the report's player plays: the annotated video beside it, the input embedded when small,
    or else linked by its path relative to the report's folder."""
    import base64
    import os

    if annotated:
        return OUTPUTS["annotated"]
    video = Path(result.video)
    if video.is_file() and video.stat().st_size <= EMBED_BYTES:
        kind = "video/mp4" if video.suffix.lower() in (".mp4", ".m4v", ".mov") else "video/webm"
        return f"data:{kind};base64," + base64.b64encode(video.read_bytes()).decode()
    try:
        return Path(os.path.relpath(video.resolve(), Path(folder).resolve())).as_posix()
    except ValueError:  # another drive
        return video.resolve().as_uri()


def html_report(result, path: str | Path | None = None, video_src: str | None = None) -> str:
    """A self-contained HTML page: video facts, the player (with ``video_src``: the video, with the
    segments as lanes to click), timeline (inline PNG), summary table and one section per track
    with its segments."""
    summary = result.summary()
    name = html.escape(Path(result.video).name)
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>dfer · {name}</title><style>"
             "body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}"
             "table{border-collapse:collapse;margin:0.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;"
             "text-align:right}th{background:#f3f3f3}td.l{text-align:left}.sw{display:inline-block;width:.9em;"
             "height:.9em;margin-right:.3em;vertical-align:middle}img{max-width:100%}</style></head><body>",
             f"<h1>Facial expressions in {name}</h1>",
             f"<p>{result.info.width}×{result.info.height}, {result.info.fps:.2f} frames/s, "
             f"{result.info.duration:.2f} s; model: {html.escape(result.model)}; analysed in "
             f"{result.seconds:.1f} s ({summary['x_real_time'] or '–'}× real time).</p>"]
    if not result.tracks:
        parts.append("<p><b>No face was found in this video.</b> Nothing to report.</p>")
    else:
        if video_src is not None:
            parts.append(player(result, video_src))
        parts.append(f"<img alt='timeline' src='data:image/png;base64,{png_base64(timeline(result))}'>")
        parts.append("<h2>Summary</h2><table><tr><th>track</th><th>from (s)</th><th>to (s)</th>"
                     "<th>frames</th><th>main expression</th><th>segments</th></tr>")
        for track, facts in summary["tracks"].items():
            main = max(facts["mean_probabilities"], key=facts["mean_probabilities"].get)
            parts.append(f"<tr><td>{track}</td><td>{facts['first']:.2f}</td><td>{facts['last']:.2f}</td>"
                         f"<td>{facts['frames']}</td><td class='l'>{_swatch(main)}{main}</td>"
                         f"<td>{len(facts['segments'])}</td></tr>")
        parts.append("</table>")
        for track, facts in summary["tracks"].items():
            parts.append(f"<h2>Track {track}</h2><table><tr><th>expression</th><th>onset (s)</th>"
                         "<th>offset (s)</th><th>onset frame</th><th>offset frame</th><th>peak (s)</th>"
                         "<th>confidence</th></tr>")
            for span in facts["segments"]:
                parts.append(f"<tr data-onset='{span['onset']:.6f}'><td class='l'>{_swatch(span['label'])}"
                             f"{span['label']}"
                             f"{' (short)' if span['short'] else ''}</td><td>{span['onset']:.2f}</td>"
                             f"<td>{span['offset']:.2f}</td><td>{span['onset_frame']}</td>"
                             f"<td>{span['offset_frame']}</td><td>{span['peak']:.2f}</td>"
                             f"<td>{span['confidence']:.2f}</td></tr>")
            parts.append("</table><p>Mean probabilities: " + ", ".join(
                f"{_swatch(k)}{k} {v:.2f}" for k, v in facts["mean_probabilities"].items()) + "</p>")
    options = html.escape(json.dumps(summary["options"], default=str))
    parts.append(f"<details><summary>options</summary><pre>{options}</pre></details>")
    if video_src is not None and result.tracks:
        parts.append(f"<script>{PLAYER_SCRIPT}</script>")
    parts.append("</body></html>")
    page = "\n".join(parts)
    if path is not None:
        with atomic_path(path) as partial:
            partial.write_text(page)
    return page


def _swatch(name: str) -> str:
    return f"<span class='sw' style='background:{COLOURS.get(name, '#000')}'></span>"


#: The files one video's outputs consist of (``windows.csv`` only for a trained video model).
OUTPUTS = {"frames": "frames.parquet", "frames_csv": "frames.csv", "segments": "segments.csv",
           "timeline": "timeline.png", "report": "report.html", "summary": "summary.json", "windows": "windows.csv",
           "annotated": "annotated.mp4"}


def save_result(result, out: Path, annotated: bool = False) -> dict[str, Path]:
    """Write every output of one video as the folder ``out``: staged, then swapped in whole, so a
    kill never leaves a mix of two runs' files. A folder holding other files is refused. With
    ``annotated``, also the annotated video (:mod:`dfer.predict.annotate`)."""
    wanted = {key: name for key, name in OUTPUTS.items()
              if (key != "windows" or result.windows is not None) and (key != "annotated" or annotated)}
    with replaced_folder(out, owned=set(OUTPUTS.values())) as staging:
        write_table(staging / wanted["frames"], result.frames)
        write_table(staging / wanted["frames_csv"], result.frames)
        write_table(staging / wanted["segments"], result.segments)
        if result.windows is not None:
            write_table(staging / wanted["windows"], result.windows)
        plt.close(timeline(result, staging / wanted["timeline"]))
        html_report(result, staging / wanted["report"], video_source(result, Path(out), annotated))
        write_json(staging / wanted["summary"], result.summary())
        if annotated:
            from dfer.predict.annotate import write_annotated

            write_annotated(result.video, result.frames, staging / wanted["annotated"])
    return {key: Path(out) / name for key, name in wanted.items()}
