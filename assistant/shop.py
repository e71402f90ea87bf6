"""The application: everything the web pages and the CLI do, as plain methods.

Pages and CLI commands call a `Shop`; they never touch boto3, SQL or the graph directly. A `Shop`
is built once per process (Streamlit keeps it in `st.cache_resource`) and holds the catalog
engine, the bedrock-agent-runtime client, the checkpointer, the model and the compiled graph.

    page / CLI → Shop → graph → tools → catalog
                 Shop → graph → checkpointer → boto3 → (local session service | AWS)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from langchain_core.messages import HumanMessage
from langgraph.types import Command

from assistant import sessions
from assistant.approval_flow import decide_checkout, record_pending
from assistant.audit import session_audit
from assistant.aws import error_code, session_client
from assistant.catalog import (
    AlreadyDecided,
    ApprovalError,
    get_engine,
    get_user,
    init_db,
    list_approvals,
    list_users,
    recent_orders,
)
from assistant.checkpointer import BedrockSessionCheckpointer
from assistant.config import Settings, get_settings
from assistant.graph import ModelUnavailable, build_graph
from assistant.history import CheckpointView, edit_message_update, timeline
from assistant.models.factory import build_chat_model, describe_model
from assistant.turns import (
    TurnError,
    TurnEvent,
    TurnResult,
    check_message,
    final_reply,
    last_products,
    stream_tokens,
    turn_messages,
)

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
        self.engine = engine or get_engine(self.settings.database_url)
        init_db(self.engine)
        self.client = client or session_client(self.settings)
        self.checkpointer = BedrockSessionCheckpointer(client=self.client)
        self.model = model or build_chat_model(self.settings)
        self.graph = build_graph(self.model, self.checkpointer)

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
    def users(self) -> list:
        """The demo users (shoppers and operators)."""
        return list_users(self.engine)

    def user(self, username: str):
        """The user named `username`, or TurnError if there is none."""
        user = get_user(self.engine, username)
        if user is None:
            raise TurnError(f"Unknown user {username!r}.")
        return user

    # --- conversations --------------------------------------------------------------------
    def new_conversation(self, username: str) -> str:
        """Start a conversation (a new Bedrock session) for a user; return its session id."""
        user = self.user(username)
        with _readable_errors(self.settings):
            conversation = sessions.create_conversation(
                self.client, self.engine, self.settings, user=user.username, tenant=user.tenant
            )
        return conversation.session_id

    def conversations(self, username: str | None = None) -> list[sessions.Conversation]:
        """A user's conversations, most recent first (everyone's when username is None)."""
        return sessions.list_conversations(self.engine, username)

    def open(self, username: str, session_id: str) -> sessions.Conversation:
        """The conversation if `username` may see it; TurnError otherwise."""
        with _readable_errors(self.settings):
            try:
                return sessions.open_conversation(
                    self.client, self.engine, session_id, user=username
                )
            except sessions.ConversationError as error:
                raise TurnError(str(error)) from error

    def end(self, username: str, session_id: str) -> None:
        """End a conversation: it stays readable but takes no more messages."""
        self.open(username, session_id)
        with _readable_errors(self.settings):
            sessions.end_conversation(self.client, self.engine, session_id)

    def delete(self, username: str, session_id: str) -> None:
        """Delete a conversation and all its checkpoints."""
        self.open(username, session_id)
        with _readable_errors(self.settings):
            sessions.delete_conversation(self.client, self.engine, session_id)

    def cleanup(self, older_than_days: int | None = None, progress=None) -> list[str]:
        """End and delete conversations idle longer than the retention period."""
        days = self.settings.session_retention_days if older_than_days is None else older_than_days
        with _readable_errors(self.settings):
            return sessions.cleanup(
                self.client,
                self.engine,
                older_than=timedelta(days=days),
                **({"progress": progress} if progress else {}),
            )

    # --- turns ---------------------------------------------------------------------------
    def send(self, username: str, session_id: str, message: Any) -> TurnResult:
        """Run one turn and return the reply, cart and any pending approval."""
        result = None
        for event in self.stream(username, session_id, message):
            if event.kind == "done":
                result = event.result
        assert result is not None
        return result

    def stream(self, username: str, session_id: str, message: Any) -> Iterator[TurnEvent]:
        """Run one turn, yielding reply tokens and tool activity as they happen, then the result.

        Raises TurnError (before anything is written) for bad input, an ended or foreign
        conversation, or a checkout still waiting for the store.
        """
        text = check_message(message)
        conversation = self.open(username, session_id)
        if conversation.status != "ACTIVE":
            raise TurnError("This conversation has ended; start a new one to keep shopping.")
        pending = self.pending_approval(session_id)
        if pending is not None:
            raise TurnError(
                f"Your order is waiting for store approval ({pending['id']}); "
                "you can keep chatting once the store has decided."
            )
        graph_input = {
            "messages": [HumanMessage(text)],
            "user": conversation.user,
            "tenant": conversation.tenant,
        }
        sessions.touch(self.engine, session_id, title=text)
        yield from self._run(session_id, graph_input)

    def _run(self, session_id: str, graph_input: Any, config: dict | None = None):
        config = config or self.config_for(session_id)
        tools: list[str] = []
        with _readable_errors(self.settings):
            chunks = self.graph.stream(
                graph_input,
                config,
                stream_mode=["messages", "updates"],
                durability=self.settings.durability,
            )
            for event in stream_tokens(chunks):
                if event.kind == "tool":
                    tools.append(event.text)
                yield event
            result = self.current(session_id)
        result.tool_activity = tools
        yield TurnEvent("done", result=result)

    def current(self, session_id: str) -> TurnResult:
        """The conversation as it stands: last reply, cart, products, pending approval."""
        snapshot = self._snapshot(session_id)
        values = snapshot.values or {}
        messages = values.get("messages", [])
        pending = None
        reply = final_reply(messages)
        if snapshot.interrupts:
            approval = record_pending(self.engine, session_id, snapshot.interrupts[0])
            pending = _approval_json(approval)
            reply = (
                f"Your order (${approval.total:.2f}) is waiting for store approval "
                f"({approval.id}). I'll let you know as soon as the store decides."
            )
        return TurnResult(
            session_id=session_id,
            reply=reply,
            cart=list(values.get("cart") or []),
            pending_approval=pending,
            products=last_products(turn_messages(messages)),
        )

    def messages(self, session_id: str) -> list:
        """Every message of the conversation on its current branch."""
        snapshot = self._snapshot(session_id)
        return list((snapshot.values or {}).get("messages", []))

    def pending_approval(self, session_id: str) -> dict | None:
        """The checkout of this session waiting for the store, if any."""
        snapshot = self._snapshot(session_id)
        if not snapshot.interrupts:
            return None
        return _approval_json(record_pending(self.engine, session_id, snapshot.interrupts[0]))

    # --- history, replay, fork -----------------------------------------------------------
    def history(self, session_id: str) -> list[CheckpointView]:
        """Every checkpoint of the session, newest first."""
        with _readable_errors(self.settings):
            return timeline(self.graph, session_id)

    def state_at(self, session_id: str, checkpoint_id: str):
        """The graph state snapshot at one checkpoint."""
        with _readable_errors(self.settings):
            return self.graph.get_state(self.config_for(session_id, checkpoint_id))

    def replay(self, username: str, session_id: str, checkpoint_id: str) -> TurnResult:
        """Re-run the steps after a checkpoint; the result starts a new branch."""
        self._writable(username, session_id)
        config = self.config_for(session_id, checkpoint_id)
        return self._final(self._run(session_id, None, config))

    def fork(
        self,
        username: str,
        session_id: str,
        checkpoint_id: str,
        *,
        message: str | None = None,
        cart: list[dict] | None = None,
    ) -> TurnResult:
        """Branch off a checkpoint with an edited shopper message and/or cart, and continue.

        With a message, the latest shopper message at that checkpoint is replaced (later messages
        are dropped) and the agent answers it. With only a cart, the cart is replaced and the
        branch waits for the shopper's next message.
        """
        self._writable(username, session_id)
        snapshot = self.state_at(session_id, checkpoint_id)
        if not snapshot.values:
            raise TurnError("That checkpoint has no state to fork from.")
        update: dict = {}
        if message is not None:
            update.update(edit_message_update(snapshot.values, check_message(message)))
        if cart is not None:
            last = (snapshot.values.get("messages") or [None])[-1]
            if message is None and getattr(last, "tool_calls", None):
                # The branch would resume by running those tool calls on the edited cart.
                raise TurnError(
                    "To fork with an edited cart, pick a checkpoint where no tool call is "
                    "waiting for its result (a shopper message or an assistant reply)."
                )
            update["cart"] = checked_cart(cart)
        if not update:
            raise TurnError("A fork needs an edited message or an edited cart.")
        with _readable_errors(self.settings):
            if message is not None:
                # As if the tools had just run: the agent answers the edited message next.
                config = self.graph.update_state(snapshot.config, update, as_node="tools")
                return self._final(self._run(session_id, None, config))
            config = self.graph.update_state(snapshot.config, update, as_node="agent")
        return self.current(session_id)

    def fork_conversation(
        self, username: str, session_id: str, checkpoint_id: str | None = None
    ) -> str:
        """Copy a conversation into a new one (a new Bedrock session) and return its id.

        Every checkpoint is copied (`copy_thread`), so the new conversation has the whole history;
        with `checkpoint_id`, it continues from that checkpoint, which must end a turn.
        """
        source = self.open(username, session_id)
        if checkpoint_id is not None and self.state_at(session_id, checkpoint_id).next:
            raise TurnError(
                "To copy into a new conversation, pick a checkpoint at the end of a turn "
                "(one where nothing runs next)."
            )
        if checkpoint_id is None and self.pending_approval(session_id) is not None:
            raise TurnError("A checkout is waiting for store approval; wait for the decision.")
        target = self.new_conversation(username)
        with _readable_errors(self.settings):
            self.checkpointer.copy_thread(session_id, target)
            if checkpoint_id is not None:
                copied = self.config_for(target, checkpoint_id)
                self.graph.update_state(copied, None, as_node="__copy__")
        sessions.touch(self.engine, target, title=f"{source.title} (copy)")
        return target

    def switch_branch(self, username: str, session_id: str, checkpoint_id: str) -> TurnResult:
        """Make the branch ending at `checkpoint_id` current again (a copy becomes the newest)."""
        self._writable(username, session_id)
        snapshot = self.state_at(session_id, checkpoint_id)
        with _readable_errors(self.settings):
            self.graph.update_state(snapshot.config, None, as_node="__copy__")
        return self.current(session_id)

    def _writable(self, username: str, session_id: str) -> None:
        if self.open(username, session_id).status != "ACTIVE":
            raise TurnError("This conversation has ended; its history is read-only.")
        if self.pending_approval(session_id) is not None:
            raise TurnError("A checkout is waiting for store approval; wait for the decision.")

    @staticmethod
    def _final(events: Iterator[TurnEvent]) -> TurnResult:
        result = None
        for event in events:
            if event.kind == "done":
                result = event.result
        assert result is not None
        return result

    # --- approvals -----------------------------------------------------------------------
    def approvals(self, status: str | None = "pending") -> list[dict]:
        """Checkouts in the approvals queue (all sessions), newest first."""
        return [_approval_json(approval) for approval in list_approvals(self.engine, status=status)]

    def decide(self, approval_id: str, decision: dict) -> TurnResult:
        """Apply an operator's decision and resume the waiting conversation.

        Raises AlreadyDecided when someone decided first, ApprovalError when the checkout is no
        longer waiting or the decision is malformed.
        """
        with _readable_errors(self.settings):
            return decide_checkout(self, approval_id, decision)

    def orders(self, limit: int = 20) -> list:
        """The most recent orders."""
        return recent_orders(self.engine, limit=limit)

    # --- audit ---------------------------------------------------------------------------
    def audit(self, session_id: str) -> dict:
        """The raw Bedrock session: invocations, steps, payloads and decoded checkpoints."""
        with _readable_errors(self.settings):
            return session_audit(self.client, self.checkpointer.serde, session_id)

    # --- plumbing ------------------------------------------------------------------------
    def _snapshot(self, session_id: str):
        with _readable_errors(self.settings):
            return self.graph.get_state(self.config_for(session_id))

    def config_for(self, session_id: str, checkpoint_id: str | None = None) -> dict:
        """The LangGraph config of a session (at one checkpoint when given), with the catalog."""
        configurable: dict = {"thread_id": session_id, "engine": self.engine}
        if checkpoint_id:
            configurable["checkpoint_id"] = checkpoint_id
        return {"configurable": configurable}

    def resume(self, session_id: str, interrupt_id: str, value: dict) -> TurnResult:
        """Resume the paused checkout of a session with an operator's decision."""
        command = Command(resume={interrupt_id: value})
        return self._final(self._run(session_id, command))


def checked_cart(cart: list[dict]) -> list[dict]:
    """An edited cart as the state keeps it; TurnError when a line makes no sense.

    Lines with quantity 0 are dropped. Prices are kept as shown: an order is always priced from
    the catalog, never from the cart.
    """
    checked = []
    for line in cart:
        try:
            quantity = int(line["quantity"])
            clean = {
                "product_id": str(line["product_id"]),
                "name": str(line.get("name") or line["product_id"]),
                "size": float(line["size"]),
                "quantity": quantity,
                "unit_price": float(line.get("unit_price") or 0),
            }
        except (KeyError, TypeError, ValueError) as error:
            raise TurnError(f"A cart line is incomplete or malformed: {line!r}.") from error
        if not 0 <= quantity <= 10:
            raise TurnError(f"Quantities go from 0 (remove) to 10; got {quantity}.")
        if quantity:
            checked.append(clean)
    return checked


def _approval_json(approval) -> dict:
    return {
        "id": approval.id,
        "session_id": approval.session_id,
        "user": approval.user,
        "tenant": approval.tenant,
        "items": approval.items,
        "subtotal": approval.subtotal,
        "total": approval.total,
        "status": approval.status,
        "reason": approval.reason,
        "order_id": approval.order_id,
        "decided_by": approval.decided_by,
        "created_at": str(approval.created_at),
    }


@contextmanager
def _readable_errors(settings: Settings) -> Iterator[None]:
    """Turn AWS and connection failures into TurnError with a message a person can act on."""
    try:
        yield
    except (TurnError, AlreadyDecided, ApprovalError):
        raise
    except ModelUnavailable as error:
        raise TurnError(
            f"The model could not answer ({error}). "
            "Your conversation is saved; try again in a moment."
        ) from error
    except ClientError as error:
        code = error_code(error)
        message = error.response.get("Error", {}).get("Message", "")
        if code == "ConflictException" and ("ENDED" in message or "EXPIRED" in message):
            raise TurnError("This conversation has ended; start a new one.") from error
        if code == "ResourceNotFoundException":
            raise TurnError(f"The session was not found ({message}).") from error
        raise TurnError(f"The session store refused the request: {code}: {message}") from error
    except BotoCoreError as error:
        where = settings.resolved_session_endpoint or "AWS"
        hint = (
            " Is the local session service running? (`shoe-assistant up` starts it.)"
            if settings.uses_local_sessions
            else ""
        )
        raise TurnError(f"The session store is not reachable ({where}): {error}.{hint}") from error
