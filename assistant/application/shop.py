"""The application: everything the web pages and the CLI do, as plain methods of one `Shop`.

Pages and CLI commands call a `Shop`; they never touch boto3, SQL or the graph, and they get
small typed views back (`assistant.application.views`). A `Shop` is built once per process
(Streamlit keeps it in `st.cache_resource`): it opens the shop database, the bedrock-agent-runtime
client, the checkpointer, the model and the compiled graph, and hands them as one `ShopContext`
to the modules that do the work:

    page / CLI → Shop → conversations | turns | history | approvals | audit
                           → graph → tools → shop database
                           → graph → checkpointer → boto3 → (local session service | AWS)
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from langgraph.types import StateSnapshot

from assistant import shopdb
from assistant.agent.graph import build_graph
from assistant.agent.models.factory import build_chat_model, describe_model
from assistant.application import approvals, conversations, history, turns
from assistant.application.audit import session_audit
from assistant.application.clients import session_client
from assistant.application.context import ShopContext
from assistant.application.errors import AlreadyDecided, ApprovalError, TurnError, readable_errors
from assistant.application.views import (
    ApprovalView,
    ChatTurn,
    CheckpointState,
    CheckpointView,
    ConversationView,
    OrderView,
    TurnEvent,
    TurnResult,
    UserView,
    chat_turns,
)
from assistant.settings import Settings, get_settings
from langgraph_checkpoint_bedrock_sessions import BedrockSessionCheckpointer

__all__ = ["AlreadyDecided", "ApprovalError", "Shop", "TurnError"]


class Shop:
    """The shoe shop's application functions, over one graph and one session store."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        engine=None,
        client=None,
        model=None,
    ) -> None:
        self.settings = settings or get_settings()
        self.engine = engine or shopdb.get_engine(self.settings.database_url)
        shopdb.init_db(self.engine)
        self.client = client or session_client(self.settings)
        self.checkpointer = BedrockSessionCheckpointer(client=self.client)
        self.model = model or build_chat_model(self.settings)
        self.graph = build_graph(self.model, self.checkpointer)
        self.context = ShopContext(
            settings=self.settings,
            engine=self.engine,
            client=self.client,
            checkpointer=self.checkpointer,
            graph=self.graph,
        )
        # App start: finish any decision a process stopped in the middle of.
        self.recover_decisions()

    # --- what is in use -------------------------------------------------------------------
    @property
    def model_label(self) -> str:
        """Which model answers, for the UI badge."""
        return describe_model(self.model)

    @property
    def store_label(self) -> str:
        """Which session store is in use, for the UI badge."""
        endpoint = self.settings.resolved_session_endpoint
        return f"local session service ({endpoint})" if endpoint else "Amazon Bedrock sessions"

    # --- users ---------------------------------------------------------------------------
    def users(self) -> list[UserView]:
        """The demo users (shoppers and operators)."""
        return [UserView.of(row) for row in shopdb.list_users(self.engine)]

    def user(self, username: str) -> UserView:
        """The user named `username`, or TurnError if there is none."""
        row = shopdb.get_user(self.engine, username)
        if row is None:
            raise TurnError(f"Unknown user {username!r}.")
        return UserView.of(row)

    # --- conversations --------------------------------------------------------------------
    def new_conversation(self, username: str) -> str:
        """Start a conversation (a new Bedrock session) for a user; return its session id."""
        user = self.user(username)
        with readable_errors(self.settings):
            created = conversations.create_conversation(
                self.context, user=user.username, tenant=user.tenant
            )
        return created.session_id

    def conversations(self, username: str | None = None) -> list[ConversationView]:
        """A user's conversations, most recent first (everyone's when username is None)."""
        return conversations.list_conversations(self.context, username)

    def open(self, username: str, session_id: str) -> ConversationView:
        """The conversation if `username` may see it; TurnError otherwise."""
        with readable_errors(self.settings):
            return conversations.open_conversation(self.context, session_id, user=username)

    def end(self, username: str, session_id: str) -> None:
        """End a conversation: it stays readable but takes no more messages."""
        self.open(username, session_id)
        with readable_errors(self.settings):
            conversations.end_conversation(self.context, session_id)

    def delete(self, username: str, session_id: str) -> None:
        """Delete a conversation and all its checkpoints."""
        self.open(username, session_id)
        with readable_errors(self.settings):
            conversations.delete_conversation(self.context, session_id)

    def cleanup(self, older_than_days: int | None = None, progress=None) -> list[str]:
        """End and delete conversations idle longer than the retention period."""
        days = self.settings.session_retention_days if older_than_days is None else older_than_days
        with readable_errors(self.settings):
            return conversations.cleanup(
                self.context,
                older_than=timedelta(days=days),
                **({"progress": progress} if progress else {}),
            )

    # --- turns ---------------------------------------------------------------------------
    def send(
        self, username: str, session_id: str, message: Any, *, message_id: str | None = None
    ) -> TurnResult:
        """Run one turn and return the reply, cart and any pending approval."""
        return turns.final_result(self.stream(username, session_id, message, message_id))

    def stream(
        self, username: str, session_id: str, message: Any, message_id: str | None = None
    ) -> Iterator[TurnEvent]:
        """Run one turn, yielding reply tokens and tool activity as they happen, then the result.

        Sending again with the same `message_id` never runs a turn twice (turns.stream_turn).
        Raises TurnError (before anything is written) for bad input, an ended or foreign
        conversation, or a checkout still waiting for the store.
        """
        self.recover_decisions()  # a decision left half-done must not hold this turn back
        return turns.stream_turn(self.context, username, session_id, message, message_id)

    def current(self, session_id: str) -> TurnResult:
        """The conversation as it stands: last reply, cart, products, pending approval."""
        return turns.current(self.context, session_id)

    def chat(self, session_id: str) -> list[ChatTurn]:
        """The conversation on its current branch, turn by turn, as the chat shows it."""
        return chat_turns(self.messages(session_id))

    def messages(self, session_id: str) -> list:
        """Every message of the current branch, as LangChain messages (for developers and tests)."""
        return list((self.context.snapshot(session_id).values or {}).get("messages", []))

    def pending_approval(self, session_id: str) -> ApprovalView | None:
        """The checkout of this session waiting for the store, if any."""
        self.recover_decisions()
        return turns.pending_approval(self.context, session_id)

    # --- history, replay, fork -----------------------------------------------------------
    def history(self, session_id: str) -> list[CheckpointView]:
        """Every checkpoint of the session, newest first."""
        return history.timeline(self.context, session_id)

    def state_at(self, session_id: str, checkpoint_id: str) -> StateSnapshot:
        """The graph state snapshot at one checkpoint (for developers and tests)."""
        return history.state_at(self.context, session_id, checkpoint_id)

    def checkpoint(self, session_id: str, checkpoint_id: str) -> CheckpointState:
        """The state at one checkpoint as the History page shows it."""
        return history.checkpoint_state(self.context, session_id, checkpoint_id)

    def replay(self, username: str, session_id: str, checkpoint_id: str) -> TurnResult:
        """Re-run the steps after a checkpoint; the result starts a new branch."""
        return history.replay(self.context, username, session_id, checkpoint_id)

    def fork(
        self,
        username: str,
        session_id: str,
        checkpoint_id: str,
        *,
        message: str | None = None,
        cart: list[dict] | None = None,
    ) -> TurnResult:
        """Branch off a checkpoint with an edited shopper message and/or cart (see history.fork)."""
        return history.fork(
            self.context, username, session_id, checkpoint_id, message=message, cart=cart
        )

    def fork_conversation(
        self, username: str, session_id: str, checkpoint_id: str | None = None
    ) -> str:
        """Copy a conversation into a new one (a new Bedrock session) and return its id."""
        return history.copy_conversation(self.context, username, session_id, checkpoint_id)

    def switch_branch(self, username: str, session_id: str, checkpoint_id: str) -> TurnResult:
        """Make the branch ending at `checkpoint_id` current again (a copy becomes the newest)."""
        return history.switch_branch(self.context, username, session_id, checkpoint_id)

    # --- approvals -----------------------------------------------------------------------
    def approvals(self, status: str | None = "pending") -> list[ApprovalView]:
        """Checkouts in the approvals queue (all sessions)."""
        self.recover_decisions()
        return approvals.list_approvals(self.context, status)

    def decide(self, approval_id: str, decision: dict) -> TurnResult:
        """Apply an operator's decision and resume the waiting conversation (approvals.decide)."""
        self.recover_decisions()
        return approvals.decide(self.context, approval_id, decision)

    def start_sweeper(self, interval: float | None = None) -> threading.Event:
        """Sweep for half-finished decisions every `interval` seconds on a daemon thread.

        For long-running processes (the web app): even with nobody touching the approvals, a
        decision whose process died is finished once its lease expires. Returns the event that
        stops the thread.
        """
        every = self.settings.approval_sweep_seconds if interval is None else interval
        stop = threading.Event()

        def sweep() -> None:
            while not stop.wait(every):
                self.recover_decisions()

        threading.Thread(target=sweep, name="approvals-sweeper", daemon=True).start()
        return stop

    def recover_decisions(self) -> int:
        """Finish decisions whose process stopped half-way (see approvals.recover); how many."""
        try:
            return approvals.recover(self.context)
        except Exception:  # never let a sweep break the command that ran it; the next one retries
            logging.getLogger(__name__).exception("recovering approvals failed")
            return 0

    def orders(self, limit: int = 20) -> list[OrderView]:
        """The most recent orders."""
        return approvals.recent_orders(self.context, limit)

    # --- audit ---------------------------------------------------------------------------
    def audit(self, session_id: str) -> dict:
        """The raw Bedrock session: invocations, steps, payloads and decoded checkpoints."""
        with readable_errors(self.settings):
            return session_audit(self.client, self.checkpointer.serde, session_id)

    # --- for tests and tools -------------------------------------------------------------
    def config_for(self, session_id: str, checkpoint_id: str | None = None) -> dict:
        """The LangGraph config of a session (at one checkpoint when given), with the shop DB."""
        return self.context.config_for(session_id, checkpoint_id)

    def resume(self, session_id: str, interrupt_id: str, value: dict) -> TurnResult:
        """Resume the paused checkout of a session with a decision (no approval record)."""
        return turns.resume(self.context, session_id, interrupt_id, value)
