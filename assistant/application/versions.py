"""Versions of a message in the chat: edits and regenerations, as branches of the checkpoint tree.

Editing an earlier shopper message right in the chat forks the conversation at the checkpoint
where that message was the latest one (`history.fork`); regenerating a reply replays from that
same checkpoint (`history.replay`). The old branch stays in the session, so one message can have
several versions, as in the chat apps people know, and ‹2/3› under it moves between them
(`history.switch_branch` to the newest branch that holds the chosen version). The History page
stays the place for the whole tree.

How versions are found, from the checkpoints alone: every branch ends at a leaf of the tree
(only finished ends count: `switch_branch` takes no other). Two branches share the conversation
before position *p* when their messages before *p* are the same (ids and text). A branch's
version of the message at *p* is the checkpoint where that message last changed on the way from
the root: where it first appeared, where an edit replaced it, or where a regenerated reply was
written. Branches with the same version are one version.
"""

from __future__ import annotations

from dataclasses import dataclass

from langchain_core.messages import BaseMessage, HumanMessage
from langgraph.types import StateSnapshot

from assistant.application.context import ShopContext


@dataclass(frozen=True)
class Versions:
    """The versions of one message, oldest first, and which of them the chat shows."""

    current: int  # index in `branches` of the version on screen
    branches: list[str]  # per version: the checkpoint that ends its newest branch

    @property
    def count(self) -> int:
        """How many versions the message has."""
        return len(self.branches)


@dataclass(frozen=True)
class TurnVersions:
    """One chat turn: where an edit or a regeneration of it starts, and its versions."""

    edit_from: str | None = None  # the checkpoint where this shopper message is the latest
    message: Versions | None = None  # versions of the shopper message (None: just one)
    reply: Versions | None = None  # versions of the reply (None: just one)


def turn_versions(ctx: ShopContext, session_id: str) -> list[TurnVersions]:
    """Per turn of the chat (as `views.chat_turns` groups them), its versions, current branch."""
    snapshots = ctx.history_snapshots(session_id)
    if not snapshots:
        return []
    tree = CheckpointTree(snapshots)
    messages = tree.messages[tree.newest]
    turns = []
    for start in turn_starts(messages):
        if not isinstance(messages[start], HumanMessage):
            turns.append(TurnVersions())
            continue
        reply = start + 1
        has_reply = reply < len(messages) and not isinstance(messages[reply], HumanMessage)
        turns.append(
            TurnVersions(
                edit_from=tree.changed_at(tree.newest, start),
                message=tree.versions(start),
                reply=tree.versions(reply) if has_reply else None,
            )
        )
    return turns


def turn_starts(messages: list[BaseMessage]) -> list[int]:
    """Where each chat turn starts: every shopper message, and the very first message."""
    return [
        index
        for index, message in enumerate(messages)
        if index == 0 or isinstance(message, HumanMessage)
    ]


def signature(message: BaseMessage) -> tuple[str, str, str]:
    """What makes two messages the same message: id, type and text."""
    return (str(message.id), message.type, message.text)


class CheckpointTree:
    """The checkpoints of one session as a tree, with the messages at each."""

    def __init__(self, snapshots: list[StateSnapshot]) -> None:
        # get_state_history lists newest first: `order` keeps that (0 is the newest).
        self.order = [snapshot.config["configurable"]["checkpoint_id"] for snapshot in snapshots]
        self.newest = self.order[0]
        self.messages = {
            checkpoint_id: list((snapshot.values or {}).get("messages", []))
            for checkpoint_id, snapshot in zip(self.order, snapshots, strict=True)
        }
        self.parent = {
            checkpoint_id: (snapshot.parent_config or {})
            .get("configurable", {})
            .get("checkpoint_id")
            for checkpoint_id, snapshot in zip(self.order, snapshots, strict=True)
        }
        finished = {
            checkpoint_id
            for checkpoint_id, snapshot in zip(self.order, snapshots, strict=True)
            if not snapshot.next
        }
        parents = set(self.parent.values())
        # Branch ends to switch to: finished ones (a branch that stopped mid-turn, or waits for
        # the store, cannot be switched to), and the current one whatever its state.
        self.leaves = [
            node
            for node in self.order
            if node not in parents and (node in finished or node == self.newest)
        ]
        self._paths: dict[str, list[str]] = {}

    def path(self, checkpoint_id: str) -> list[str]:
        """The checkpoints from the root down to `checkpoint_id`."""
        if checkpoint_id not in self._paths:
            path, seen = [], set()
            current: str | None = checkpoint_id
            while current in self.messages and current not in seen:
                seen.add(current)
                path.append(current)
                current = self.parent[current]
            self._paths[checkpoint_id] = path[::-1]
        return self._paths[checkpoint_id]

    def at(self, checkpoint_id: str, position: int) -> tuple[str, str, str] | None:
        """The signature of the message at `position` in a checkpoint (None: not there yet)."""
        messages = self.messages[checkpoint_id]
        return signature(messages[position]) if position < len(messages) else None

    def changed_at(self, leaf: str, position: int) -> str | None:
        """The checkpoint on the way to `leaf` where the message at `position` last changed."""
        changed, before = None, None
        for checkpoint_id in self.path(leaf):
            now = self.at(checkpoint_id, position)
            if now is not None and now != before:
                changed = checkpoint_id
            before = now
        return changed

    def versions(self, position: int) -> Versions | None:
        """The versions of the message at `position` among the branches that share the
        conversation before it with the newest branch; None when there is only one."""
        before = [signature(message) for message in self.messages[self.newest][:position]]
        newest_branch: dict[str, str] = {}  # version -> its newest leaf
        for leaf in self.leaves:  # newest first
            messages = self.messages[leaf]
            if len(messages) <= position:
                continue
            if [signature(message) for message in messages[:position]] != before:
                continue
            version = self.changed_at(leaf, position)
            if version is not None:
                newest_branch.setdefault(version, leaf)
        if len(newest_branch) < 2:
            return None
        oldest_first = sorted(newest_branch, key=self.order.index, reverse=True)
        shown = self.changed_at(self.newest, position)
        return Versions(
            current=oldest_first.index(shown),
            branches=[newest_branch[version] for version in oldest_first],
        )
