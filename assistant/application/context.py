"""What every application function works with: the shop database, the session store, the graph.

A `ShopContext` is built once per process by `assistant.application.shop.Shop` (Streamlit keeps
the Shop in `st.cache_resource`) and passed to the functions of the application's modules, so
none of them needs the `Shop` facade and no module imports another's caller.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from langgraph.graph.state import CompiledStateGraph
from langgraph.types import StateSnapshot
from sqlalchemy import Engine

from assistant.application.errors import readable_errors
from assistant.application.snapshot_cache import SnapshotCache, newest_first
from assistant.settings import Settings
from langgraph_checkpoint_bedrock_sessions import BedrockSessionCheckpointer


@dataclass(frozen=True)
class ShopContext:
    """The parts of one running shop (see module docstring)."""

    settings: Settings
    engine: Engine
    client: Any  # boto3 bedrock-agent-runtime client
    checkpointer: BedrockSessionCheckpointer
    graph: CompiledStateGraph
    sealer: Any = None  # application.sealing.Sealer: the shoppers' text at rest
    # tenant -> the ShopContext whose client signs as that tenant (None: one client for all)
    tenants: Callable[[str], ShopContext] | None = None
    # the checkpoints of the sessions read last, topped up on each read (snapshot_cache.py)
    history: SnapshotCache = field(default_factory=SnapshotCache)

    def of_tenant(self, tenant: str) -> ShopContext:
        """The context that talks to the session store as `tenant` (this one without isolation)."""
        return self.tenants(tenant) if self.tenants is not None else self

    def config_for(self, session_id: str, checkpoint_id: str | None = None) -> dict:
        """The LangGraph config of a session (at one checkpoint when given), with the shop DB.

        The engine travels in the config because the graph's tools read the catalog from it.
        """
        configurable: dict = {"thread_id": session_id, "engine": self.engine}
        if checkpoint_id:
            configurable["checkpoint_id"] = checkpoint_id
        return {"configurable": configurable}

    def with_engine(self, config: dict) -> dict:
        """`config` (as `update_state` returns it) with this shop's engine added back."""
        return {**config, "configurable": {**config.get("configurable", {}), "engine": self.engine}}

    def history_snapshots(self, session_id: str) -> list[StateSnapshot]:
        """Every checkpoint of the session as a LangGraph state snapshot, newest first."""
        with readable_errors(self.settings):
            listing = newest_first(self.graph, self.config_for(session_id))
            return self.history.snapshots(session_id, listing)

    def snapshot(self, session_id: str, checkpoint_id: str | None = None) -> StateSnapshot:
        """The graph state of a session, at its newest checkpoint or at `checkpoint_id`."""
        with readable_errors(self.settings):
            return self.graph.get_state(self.config_for(session_id, checkpoint_id))
