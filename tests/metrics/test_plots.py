"""The metrics' figures are written as PNG files."""

import pandas as pd

from dfer.metrics.classification import confusion
from dfer.metrics.plots import plot_ar_an, plot_confusion
from dfer.metrics.proposals import average_recall

PNG = b"\x89PNG\r\n\x1a\n"


def test_plot_confusion_writes_png(tmp_path):
    matrix = confusion([0, 0, 1, 2], [0, 1, 1, 2], num_classes=4)  # class 3 has no samples
    for normalize in (True, False):
        path = plot_confusion(matrix, ["a", "b", "c", "d"], tmp_path / f"out/confusion_{normalize}.png",
                              normalize=normalize, title="t")
        assert path.read_bytes()[:8] == PNG


def test_plot_ar_an_writes_png(tmp_path):
    truth = pd.DataFrame({"video": ["a", "b"], "t_start": [0.0, 1.0], "t_end": [2.0, 3.0]})
    found = pd.DataFrame({"video": ["a", "b"], "t_start": [0.0, 1.5], "t_end": [2.0, 3.0], "score": [0.9, 0.5]})
    path = plot_ar_an({"exact": average_recall(truth, found)}, tmp_path / "plots" / "ar_an.png")
    assert path.read_bytes()[:8] == PNG and not list(path.parent.glob(".*partial"))
