"""mx.viz: the progress bar's lines in terminal and log mode, its ETA math and argument
checks; plot_curves' PNG (decodes to the asked size, equals render_curves' pixels, series in
their colours) and its errors."""
import io
import math
import re

import numpy as np
import pytest

import mixnet as mx


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_eta_and_duration():
    assert mx.viz.eta_seconds(25, 100, 10.0) == pytest.approx(30.0)
    assert mx.viz.eta_seconds(0, 100, 10.0) < 0
    assert mx.viz.format_duration(65.4) == "1:05"
    assert mx.viz.format_duration(3723) == "1:02:03"
    assert mx.viz.format_duration(-1) == "--:--"


def test_progress_bar_in_a_log_writes_a_line_per_tenth():
    out = io.StringIO()
    bar = mx.viz.ProgressBar(200, prefix="epoch 1/3", file=out)
    assert not bar.tty
    for i in range(1, 201):
        bar.update(i, i * 64, {"loss": 1.0 / i, "acc": 0.5})
    bar.finish()
    lines = out.getvalue().splitlines()
    assert len(lines) == 10 and "\r" not in out.getvalue()
    pattern = (r"epoch 1/3 +\d+/200 \( *\d+%\) loss \d\.\d{4} acc 0\.5000 \| \d+ samples/s "
               r"\| (ETA \d+:\d\d|\d+:\d\d total)")
    for line in lines:
        assert re.fullmatch(pattern, line), line
    assert lines[0].startswith("epoch 1/3  20/200 ( 10%)")
    assert lines[-1].startswith("epoch 1/3 200/200 (100%)") and lines[-1].endswith("total")


def test_progress_bar_on_a_terminal_redraws_in_place():
    out = FakeTTY()
    with mx.viz.ProgressBar(5, prefix="e", width=10, file=out, min_redraw_s=0) as bar:
        assert bar.tty
        for i in range(1, 6):
            bar.update(i, i, [("loss", 0.25)])
        assert "\n" not in out.getvalue()
    text = out.getvalue()
    assert text.count("\r") == 5 and text.endswith("\n")
    assert "\re [==>       ] 1/5 loss 0.2500" in text
    assert "\re [==========] 5/5 loss 0.2500" in text


def test_progress_bar_errors():
    with pytest.raises(ValueError, match="total must be >= 1"):
        mx.viz.ProgressBar(0)
    bar = mx.viz.ProgressBar(3, file=io.StringIO())
    with pytest.raises(ValueError, match=r"done must be in \[0, 3\]"):
        bar.update(4)


CURVES = {"loss": {"train loss": [0.9, 0.6, 0.45, 0.4]},
          "accuracy": {"train acc": [0.7, 0.8, 0.85, 0.87], "test acc": [0.75, 0.82, 0.86, 0.88]}}
COLORS = [(31, 119, 180), (255, 127, 14), (44, 160, 44)]


def count_color(img, rgb):
    return int(np.all(img == np.array(rgb, dtype=np.uint8), axis=-1).sum())


def test_plot_curves_writes_a_png(tmp_path):
    path = tmp_path / "curves.png"
    mx.viz.plot_curves(str(path), CURVES, title="LeNet", width=800, height=360,
                       ylabels={"loss": "cross-entropy"})
    raw = path.read_bytes()
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    img = mx.image.imdecode(raw).asnumpy()
    assert img.shape == (360, 800, 3)
    rendered = mx.viz.render_curves(CURVES, title="LeNet", width=800, height=360,
                                    ylabels={"loss": "cross-entropy"})
    np.testing.assert_array_equal(img, rendered)
    for rgb in COLORS:  # one colour per series, across the panels
        assert count_color(img, rgb) > 100, rgb
    assert count_color(img, (0, 0, 0)) > 1000  # axes, ticks and text
    # The left panel holds only the loss, the right one only the accuracies.
    assert count_color(img[:, :400], COLORS[1]) == 0
    assert count_color(img[:, 400:], COLORS[0]) == 0


def test_plot_curves_errors(tmp_path):
    with pytest.raises(ValueError, match="non-empty dict"):
        mx.viz.plot_curves(str(tmp_path / "a.png"), {})
    with pytest.raises(ValueError, match="is empty"):
        mx.viz.render_curves({"loss": {"train": []}})
    with pytest.raises(ValueError, match="non-finite"):
        mx.viz.render_curves({"loss": {"train": [1.0, math.nan]}})
    with pytest.raises(ValueError, match="3 x values but 2 y values"):
        mx.viz.render_curves({"loss": {"train": [1.0, 2.0]}}, x=[1, 2, 3])
    with pytest.raises(ValueError, match="has no series"):
        mx.viz.render_curves({"loss": {}})
    with pytest.raises(TypeError, match="must be a dict"):
        mx.viz.render_curves({"loss": [1.0, 2.0]})
    with pytest.raises(ValueError, match="cannot write"):
        mx.viz.plot_curves(str(tmp_path / "missing" / "dir" / "a.png"), CURVES)
    with pytest.raises(ValueError, match="too small"):
        mx.viz.render_curves(CURVES, width=100, height=60)


def test_callback_progress_bar(capsys):
    acc = mx.metric.Accuracy()
    acc.update([mx.nd.array([0, 1])], [mx.nd.array([[0.9, 0.1], [0.2, 0.8]])])
    cb = mx.callback.ProgressBar(total=4, length=20)
    for epoch in range(2):
        for nbatch in range(4):
            cb(mx.model.BatchEndParam(epoch=epoch, nbatch=nbatch, eval_metric=acc, locals=None))
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 8  # not a terminal: a line per batch here (each is a quarter)
    assert "samples/s" not in lines[3]  # the callback does not know the batch size
    assert lines[3].startswith("Epoch[0] 4/4 (100%) accuracy 1.0000 | ")
    assert lines[4].startswith("Epoch[1] 1/4 ( 25%) accuracy 1.0000 | ETA ")
