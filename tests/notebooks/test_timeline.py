"""Notebook 03's timeline, drawn as the notebook draws it: every window close marked, text big
enough to read at the size JupyterLab shows it, and no mark or label on top of another, for the
walk of the solutions and for the walk of the untouched stub."""

from collections.abc import Iterator
from itertools import combinations

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text
from matplotlib.transforms import Bbox

import course_kit.notebook as nb
from course_kit.notebook.walk import WIDTH_PX, Timeline

pytestmark = pytest.mark.notebook

MIN_TEXT_PX = 12  # the smallest text, in pixels of the image JupyterLab shows at 1:1


@pytest.fixture(scope="module", params=["solutions", "exercises"])
def timeline(request: pytest.FixtureRequest) -> Iterator[Timeline]:
    lab = nb.start(request.param)
    yield nb.walk(lab, lab.exercise("ex03").StepUpClient).plot()
    lab.close()


def drawn(figure: Figure) -> tuple[list[tuple[str, Bbox]], list[tuple[str, Bbox]]]:
    """What the figure shows once drawn: its texts and its marks, each with its box in pixels."""
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    texts: list[Text] = [t for t in figure.texts if t.get_text()]
    boxes = [("legend", figure.legends[0].get_window_extent(renderer))]
    marks = []
    for ax in figure.axes:
        texts += [*ax.texts, ax.title, ax.xaxis.label]
        low, high = ax.get_xlim()
        ticks = [t for t in ax.get_xticklabels() if low <= t.get_position()[0] <= high]
        texts += [t for t in [*ticks, *ax.get_yticklabels()] if t.get_text()]
        for line in ax.lines:
            marks += list(_marker_boxes(ax, line))
        marks += [("group box", p.get_window_extent(renderer)) for p in ax.patches if not p.fill]
    boxes += [(repr(t.get_text()), t.get_window_extent(renderer)) for t in texts]
    return boxes, marks


def _marker_boxes(ax: object, line: Line2D) -> Iterator[tuple[str, Bbox]]:
    if line.get_marker() in (None, "", "None", " "):
        return
    half = line.get_markersize() * line.figure.dpi / 72 / 2  # type: ignore[union-attr]
    for x, y in line.get_xydata():  # type: ignore[union-attr]
        cx, cy = ax.transData.transform((x, y))  # type: ignore[attr-defined]
        yield (
            f"marker {line.get_marker()} at x={x:g}",
            Bbox([[cx - half, cy - half], [cx + half, cy + half]]),
        )


def overlap(a: Bbox, b: Bbox) -> bool:
    """More than touching: the boxes share more than a pixel each way."""
    return min(a.x1, b.x1) - max(a.x0, b.x0) > 1 and min(a.y1, b.y1) - max(a.y0, b.y0) > 1


def test_nothing_is_drawn_over_anything_else(timeline: Timeline) -> None:
    texts, marks = drawn(timeline.figure)
    clashes = [
        f"{name} and {other}"
        for (name, box), (other, other_box) in combinations(texts + marks, 2)
        if overlap(box, other_box)
    ]
    assert clashes == []
    width, height = timeline.figure.bbox.width, timeline.figure.bbox.height
    outside = [n for n, b in texts + marks if b.x0 < 0 or b.y0 < 0 or b.x1 > width or b.y1 > height]
    assert outside == []


def test_the_text_is_big_enough_at_the_size_shown(timeline: Timeline) -> None:
    figure = timeline.figure
    assert figure.bbox.width == WIDTH_PX  # JupyterLab shows it at 1:1 (tests/browser measures)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    small = [
        (t.get_text(), round(t.get_fontsize() * figure.dpi / 72, 1))
        for t in figure.findobj(Text)
        if t.get_text() and t.get_visible() and t.get_fontsize() * figure.dpi / 72 < MIN_TEXT_PX
    ]
    assert small == []


def test_the_timeline_marks_where_each_window_closes() -> None:
    lab = nb.start("solutions")
    walked = nb.walk(lab, lab.exercise("ex03").StepUpClient)
    figure = walked.plot().figure
    panels = [ax for ax in figure.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == [
        "the whole walk",
        "around +5:00, second by second",
    ]
    texts = {t.get_text() for ax in panels for t in ax.texts}
    assert {"closes +5:00 ", " opens +5:01", "closes +10:01 "} <= texts, texts
    assert {"+4:59\n200", "+5:01\n200"} <= texts, texts
    assert "+4:59, +5:01\n(the close-up below)" in texts, texts
    labels = [t.get_text() for t in figure.legends[0].get_texts()]
    assert "a click that went through, no dialog" in labels, labels
    lab.close()
