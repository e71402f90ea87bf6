"""The branch tree picture: every branch drawn, straight runs folded, the current branch marked."""

from __future__ import annotations

import re

from assistant.application import CheckpointView, branch_count, branch_tree_dot


def view(checkpoint_id: str, parent: str | None, *, human: bool = False, **extra) -> CheckpointView:
    return CheckpointView(
        checkpoint_id=checkpoint_id,
        parent_id=parent,
        step=int(checkpoint_id[1:]),
        source=extra.pop("source", "loop"),
        created_at="",
        ran=["agent"],
        next=[],
        tool_calls=[],
        last_message="hello" if human else "reply",
        last_message_type="human" if human else "ai",
        cart_items=0,
        cart_total=0.0,
        message_count=1,
        **extra,
    )


def two_branches() -> list[CheckpointView]:
    """c0 → c1 (human) → c2 → c3 → c4 (old branch), and c1 → c5 (fork) → c6 → c7 (current)."""
    views = {
        "c0": view("c0", None, children=["c1"]),
        "c1": view("c1", "c0", human=True, children=["c2", "c5"]),
        "c2": view("c2", "c1", children=["c3"]),
        "c3": view("c3", "c2", children=["c4"]),
        "c4": view("c4", "c3"),
        "c5": view("c5", "c1", source="update", children=["c6"]),
        "c6": view("c6", "c5", children=["c7"]),
        "c7": view("c7", "c6"),
    }
    for current in ("c7", "c6", "c5", "c1", "c0"):
        views[current].on_current_branch = True
    return [views[key] for key in ("c7", "c6", "c5", "c4", "c3", "c2", "c1", "c0")]


def nodes(dot: str) -> set[str]:
    return set(re.findall(r'^\s+"(c\d)" \[', dot, flags=re.MULTILINE))


def edges(dot: str) -> set[tuple[str, str]]:
    return set(re.findall(r'"(c\d)" -> "(c\d)"', dot))


def test_full_tree_draws_every_checkpoint_and_parent_link() -> None:
    dot = branch_tree_dot(two_branches(), compact=False)
    assert nodes(dot) == {f"c{i}" for i in range(8)}
    assert ("c1", "c2") in edges(dot) and ("c1", "c5") in edges(dot)


def test_compact_tree_folds_straight_runs_but_keeps_both_branches() -> None:
    dot = branch_tree_dot(two_branches())
    assert nodes(dot) == {"c0", "c1", "c2", "c4", "c5", "c7"}
    assert edges(dot) == {("c0", "c1"), ("c1", "c2"), ("c2", "c4"), ("c1", "c5"), ("c5", "c7")}
    assert 'label="+1 step"' in dot
    assert branch_count(two_branches()) == 2


def test_current_branch_and_selection_are_marked() -> None:
    dot = branch_tree_dot(two_branches(), selected="c3")
    assert "c3" in nodes(dot)  # a selected checkpoint is always drawn, even inside a run
    current_edge = re.search(r'"c5" -> "c7" \[([^\]]*)\]', dot)
    assert current_edge and "#2563eb" in current_edge.group(1)
    old_edge = re.search(r'"c2" -> "c3"( \[[^\]]*\])?;', dot)
    assert old_edge and "#2563eb" not in (old_edge.group(1) or "")
    assert 'fillcolor="#fde68a"' in dot.split('"c3" [', 1)[1].split("]", 1)[0]
