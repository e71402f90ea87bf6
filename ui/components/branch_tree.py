"""The branch tree: every turn of every branch as a dot you can click.

A Vega-Lite chart (Altair) laid out by the application (`TurnView.x` is the turn on its branch,
`TurnView.lane` the branch's row), drawn to the width of the page, so the whole tree is always
in view, newest and selected turns included, however long the conversation. Clicking a dot
selects that turn: Streamlit reports the chart's point selection (`on_select="rerun"`), and
`take_click` moves the page's turn picker to it on the next run, before anything is drawn.
Graphviz pictures cannot be clicked in Streamlit, which is why this is a chart.

The chart's key carries the selected turn, so each selection starts with a fresh chart whose
own selection is empty: a click is always news, even on the dot clicked last time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from assistant.application import TurnHistory

SELECTION = "turn"
CURRENT = "#2563eb"  # the current branch, as the chat shows it
OTHER = "#a1a1aa"
PICKED = "#f59e0b"
LANE_HEIGHT = 46


def chart_key(prefix: str, selected: str | None) -> str:
    """The key of the chart drawn while `selected` is the selected turn."""
    return f"{prefix}-{selected}"


def clicked_turn(state: Mapping[str, Any] | None) -> str | None:
    """The turn a chart selection state names ({"selection": {"turn": [{"turn_id": …}]}})."""
    points = ((state or {}).get("selection") or {}).get(SELECTION) or []
    for point in points:
        if isinstance(point, Mapping) and point.get("turn_id"):
            return str(point["turn_id"])
    return None


def take_click(prefix: str, picker_key: str) -> None:
    """If the tree was clicked since the last run, select the clicked turn in the picker.

    Runs before the picker is drawn (Streamlit lets a widget's value be set only then).
    """
    selected = st.session_state.get(picker_key)
    clicked = clicked_turn(st.session_state.get(chart_key(prefix, selected)))
    if clicked and clicked != selected:
        st.session_state[picker_key] = clicked


def frames(history: TurnHistory, selected: str | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The chart's data: one row per turn, one per link from a turn to the next."""
    by_id = {turn.turn_id: turn for turn in history.turns}
    right = max((turn.x for turn in history.turns), default=1)
    nodes = pd.DataFrame(
        [
            {
                "turn_id": turn.turn_id,
                "x": turn.x,
                "lane": turn.lane,
                # The ends of branches and the selected turn are named on the tree itself.
                "label": turn.title if turn.is_tip or turn.turn_id == selected else "",
                "align": "right" if turn.x >= right else "center",
                "Turn": turn.title,
                "You": _short(turn.shopper) or "—",
                "Assistant": _short("; ".join(turn.did) or turn.reply) or "—",
                "Branch": "current" if turn.on_current_branch else "other",
                "where": "selected"
                if turn.turn_id == selected
                else ("current" if turn.on_current_branch else "other"),
                "size": 420 if turn.is_current or turn.turn_id == selected else 220,
            }
            for turn in history.turns
        ]
    )
    edges = pd.DataFrame(
        [
            {
                # A first turn (or another version of it) starts from the conversation's start.
                "x": by_id[turn.parent_turn_id].x if turn.parent_turn_id in by_id else 0,
                "lane": by_id[turn.parent_turn_id].lane if turn.parent_turn_id in by_id else 0,
                "x2": turn.x,
                "lane2": turn.lane,
                "Branch": "current" if turn.on_current_branch else "other",
            }
            for turn in history.turns
        ],
        columns=["x", "lane", "x2", "lane2", "Branch"],
    )
    return nodes, edges


def tree_chart(history: TurnHistory, selected: str | None) -> alt.LayerChart:
    """The tree as a layered chart: links, the conversation's start, the turns' dots (the
    clickable layer), and the names of branch ends and of the selected turn."""
    nodes, edges = frames(history, selected)
    lanes = max((turn.lane for turn in history.turns), default=0) + 1
    right = max((turn.x for turn in history.turns), default=1)
    x = alt.X(
        "x:Q",
        title="Turn on its branch",
        scale=alt.Scale(domain=[-0.4, right + 0.5], nice=False, zero=False),
        axis=alt.Axis(
            tickMinStep=1, format="d", grid=False, labelExpr="datum.value < 1 ? '' : datum.label"
        ),
    )
    y = alt.Y(
        "lane:Q",
        title=None,
        scale=alt.Scale(domain=[-0.5, lanes - 0.5], reverse=True, nice=False, zero=False),
        axis=None,
    )
    branch_colour = alt.Color(
        "Branch:N",
        scale=alt.Scale(domain=["current", "other"], range=[CURRENT, OTHER]),
        legend=None,
    )
    links = (
        alt.Chart(edges)
        .mark_rule(strokeWidth=2.5)
        .encode(x=x, y=y, x2="x2:Q", y2="lane2:Q", color=branch_colour)
    )
    pick = alt.selection_point(name=SELECTION, fields=["turn_id"], on="click", clear=False)
    dots = (
        alt.Chart(nodes)
        .mark_circle(opacity=1, stroke=PICKED, cursor="pointer")
        .encode(
            x=x,
            y=y,
            color=branch_colour,
            size=alt.Size("size:Q", legend=None, scale=None),
            strokeWidth=alt.condition(alt.datum.where == "selected", alt.value(4), alt.value(0)),
            tooltip=["Turn", "You", "Assistant", "Branch"],
        )
        .add_params(pick)
    )
    start = (
        alt.Chart(pd.DataFrame([{"x": 0, "lane": 0, "label": "start"}]))
        .mark_square(size=140, color="#52525b")
        .encode(x=x, y=y)
    )
    start_name = start.mark_text(dy=-18, fontSize=12, color="#3f3f46").encode(text="label:N")
    names = [
        alt.Chart(nodes[nodes["align"] == align])
        .mark_text(
            dy=-18, fontSize=12, color="#3f3f46", align=align, dx=12 if align == "right" else 0
        )
        .encode(x=x, y=y, text="label:N")
        for align in ("center", "right")
    ]
    return alt.layer(links, start, start_name, dots, *names).properties(
        height=max(120, 56 + LANE_HEIGHT * lanes),
        # SVG: crisp at any size, and each dot is an element a browser test can click.
        usermeta={"embedOptions": {"renderer": "svg"}},
    )


def branch_tree(history: TurnHistory, selected: str | None, *, prefix: str) -> None:
    """Draw the tree; a click on a dot selects that turn (see `take_click`)."""
    st.altair_chart(
        tree_chart(history, selected),
        on_select="rerun",
        selection_mode=SELECTION,
        key=chart_key(prefix, selected),
        width="stretch",
    )


def _short(text: str, width: int = 70) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"
