"""``dfer data stats``: class, scene/scenario and frame-count distributions of a clip table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dfer import labels


def dataset_stats(table: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Tidy summary tables: ``classes`` and (if present) ``scenarios``/``scenes`` per split,
    and ``frames`` (frame-count distribution per split). Labels are named from
    ``table.attrs["classes"]`` (MAFW's 11 classes), else the canonical expressions."""
    classes = table.attrs.get("classes", labels.EXPRESSIONS)
    table = table.assign(
        expression=[classes[i] if i >= 0 else "unlabeled" for i in table["label"]],
        split=table["split"].replace("", "all"),
    )
    stats = {"classes": _crosstab(table, "expression")}
    if (table["scenario"] != "").any():
        stats["scenarios"] = _crosstab(table, "scenario")
    if (table["scene"] != "").any():
        scenes = _crosstab(table, "scene")
        known = [s for s in labels.SCENES if s in scenes.index]  # FERV39k scenes by scenario
        stats["scenes"] = scenes.reindex(known + [s for s in scenes.index if s not in known])
    frames = table.groupby("split")["num_frames"].describe()
    frames.loc["total"] = table["num_frames"].describe()
    stats["frames"] = frames.rename(columns={"50%": "median"})
    return stats


def _crosstab(table: pd.DataFrame, column: str) -> pd.DataFrame:
    counts = pd.crosstab(table[column], table["split"], margins=True, margins_name="total")
    return counts.rename_axis(index=column, columns=None)


def write_stats(stats: dict[str, pd.DataFrame], table: pd.DataFrame, out: Path, title: str = "") -> list[Path]:
    """Write each summary as CSV and one PNG figure (classes, scenes, frame counts) into ``out``."""
    from dfer.io.figures import plt, save_png

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in stats.items():
        path = out / f"{name}.csv"
        frame.to_csv(path)
        written.append(path)

    panels = ["classes", "scenes" if "scenes" in stats else None, "frames"]
    panels = [p for p in panels if p]
    figure, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.5), squeeze=False)
    for axis, panel in zip(axes[0], panels):
        if panel == "frames":
            bins = np.histogram_bin_edges(table["num_frames"], bins="auto")
            groups = dict(list(table.groupby(table["split"].replace("", "all"))["num_frames"]))
            axis.hist(list(groups.values()), bins=bins, stacked=True, label=list(groups))
            axis.set(xlabel="frames per clip", ylabel="clips", title="Clip length")
            axis.legend()
        else:
            counts = stats[panel].drop(index="total", columns="total", errors="ignore")
            counts.plot.bar(ax=axis, stacked=True, width=0.8)
            axis.set(ylabel="clips", title="Expressions" if panel == "classes" else "Scenes")
            if panel == "scenes":
                axis.set_xticks(axis.get_xticks(), axis.get_xticklabels(), rotation=60, ha="right")
            else:
                axis.tick_params(axis="x", labelrotation=0)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    written.append(save_png(figure, out / "stats.png"))
    return written
