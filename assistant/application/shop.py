"""The application: everything the web pages and the CLI do, as plain methods of one `Shop`.

Pages and CLI commands call a `Shop`; they never touch boto3, SQL or the graph, and they get
small typed views back (`assistant.application.views`). Every method that reads or changes
shop data takes the authenticated `Principal` first (from `sign_in`, `principal` or
`principal_for_identity`) and checks it against the rules in `principals.py` before doing
anything; pages and commands only hide what the Shop already refuses.

A `Shop` is built once per process (Streamlit keeps it in `st.cache_resource`): it opens the
shop database, the bedrock-agent-runtime client, the checkpointer, the model and the compiled
graph, and hands them as one `ShopContext` (one per tenant when the session store isolates
tenants) to the modules that do the work:

    page / CLI → Shop → conversations | turns | history | approvals | audit
                           → graph → tools → shop database
                           → graph → checkpointer → boto3 → (local session service | AWS)
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from langgraph.types import StateSnapshot

from assistant import shopdb
from assistant.agent.graph import build_graph
from assistant.agent.models.factory import build_chat_model, describe_model
from assistant.application import (
    approvals,
    cart_actions,
    conversations,
    erasure,
    history,
    turns,
    versions,
)
from assistant.application.accounts import (
    principal_for_identity,
    principal_from_token,
    sign_in,
    sign_out,
)
from assistant.application.audit import session_audit
from assistant.application.clients import session_client
from assistant.application.context import ShopContext
from assistant.application.errors import AlreadyDecided, ApprovalError, TurnError, readable_errors
from assistant.application.principals import (
    NotAllowed,
    NotSignedIn,
    Principal,
    require,
    require_role,
)
from assistant.application.sealing import Sealer
from assistant.application.tenant_clients import TenantClients
from assistant.application.versions import TurnVersions
from assistant.application.views import (
    ApprovalView,
    ChatTurn,
    CheckoutWarning,
    CheckpointState,
    CheckpointView,
    ConversationView,
    DecisionPreview,
    OrderView,
    TurnEvent,
    TurnHistory,
    TurnResult,
    UserView,
    chat_turns,
)
from assistant.settings import Settings, get_settings
from langgraph_checkpoint_bedrock_sessions import BedrockSessionCheckpointer

__all__ = [
    "AlreadyDecided",
    "ApprovalError",
    "NotAllowed",
    "NotSignedIn",
    "Principal",
    "Shop",
    "TurnError",
]


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
        # One client per tenant when the session store isolates tenants (tenant_clients.py):
        # a conversation is read and written with its tenant's credentials only.
        self.tenant_clients = TenantClients(self.settings, shared_client=client)
        self._tenant_contexts: dict[str, ShopContext] = {}
        self._tenant_lock = threading.Lock()
        self.sealer = Sealer(self.settings, self.engine)
        self.context = ShopContext(
            settings=self.settings,
            engine=self.engine,
            client=self.client,
            checkpointer=self.checkpointer,
            graph=self.graph,
            sealer=self.sealer,
            tenants=self._context_of,
        )
        conversations.seal_legacy_titles(self.context)  # databases from before kept them clear
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

    def _context_of(self, tenant: str) -> ShopContext:
        """The context whose session-store client signs as `tenant` (built once per tenant)."""
        if not self.tenant_clients.tenants_isolated:
            return self.context
        with self._tenant_lock:
            if tenant not in self._tenant_contexts:
                client = self.tenant_clients.client(tenant)
                checkpointer = BedrockSessionCheckpointer(client=client)
                self._tenant_contexts[tenant] = ShopContext(
                    settings=self.settings,
                    engine=self.engine,
                    client=client,
                    checkpointer=checkpointer,
                    graph=build_graph(self.model, checkpointer),
                    sealer=self.sealer,
                    tenants=self._context_of,
                )
            return self._tenant_contexts[tenant]

    # --- signing in ----------------------------------------------------------------------
    def sign_in(self, username: str, password: str, *, channel: str = "web") -> tuple:
        """Check a password; return (principal, sign-in token). See accounts.sign_in."""
        return sign_in(self.settings, self.engine, username, password, channel=channel)

    def principal(self, token: str | None) -> Principal:
        """The principal a sign-in token stands for; NotSignedIn when it no longer does."""
        return principal_from_token(self.settings, self.engine, token)

    def sign_out(self, token: str | None) -> bool:
        """Revoke a sign-in token (sign-out); True if it was live."""
        return sign_out(self.settings, self.engine, token)

    def principal_for_identity(self, claims: dict) -> Principal:
        """The shop account of an OpenID Connect identity (st.user); NotSignedIn if none."""
        return principal_for_identity(self.engine, claims)

    # --- users ---------------------------------------------------------------------------
    def profile(self, who: Principal) -> UserView:
        """The signed-in user's own profile (shoe size, preferences)."""
        row = shopdb.get_user(self.engine, require(who).username)
        if row is None:
            raise NotSignedIn("This account no longer exists.")
        return UserView.of(row)

    def users(self, who: Principal) -> list[UserView]:
        """The accounts `who` may see: a shopper themself, an operator their tenant's, an admin
        everyone's."""
        who = require(who)
        rows = shopdb.list_users(self.engine)
        if who.is_shopper:
            rows = [row for row in rows if row.username == who.username]
        elif not who.is_admin:
            rows = [row for row in rows if row.tenant == who.tenant]
        return [UserView.of(row) for row in rows]

    # --- who may touch which conversation ------------------------------------------------
    def _readable(self, who: Principal, session_id: str) -> ShopContext:
        """The tenant context of a conversation `who` may read; TurnError as if it did not
        exist otherwise (no existence leak)."""
        who = require(who)
        row = shopdb.get_conversation(self.engine, session_id)
        if row is None or not (
            row.user == who.username if who.is_shopper else who.covers_tenant(row.tenant)
        ):
            raise TurnError(f"No conversation {session_id!r} for {who.username}.")
        return self._context_of(row.tenant)

    def _own(self, who: Principal, session_id: str, *, doing: str) -> ShopContext:
        """The tenant context of a conversation `who` may change: a shopper's own."""
        who = require(who)
        context = self._readable(who, session_id)
        if not who.is_shopper:
            raise NotAllowed(f"Only the shopper whose conversation it is may {doing}.")
        return context

    # --- conversations --------------------------------------------------------------------
    def new_conversation(self, who: Principal) -> str:
        """Start a conversation (a new Bedrock session) for a shopper; return its session id."""
        who = require_role(who, "shopper", doing="start a conversation")
        with readable_errors(self.settings):
            created = conversations.create_conversation(
                self._context_of(who.tenant), user=who.username, tenant=who.tenant
            )
        return created.session_id

    def conversations(self, who: Principal, username: str | None = None) -> list[ConversationView]:
        """Conversations `who` may see (a shopper's own, an operator's tenant's, all for an
        admin), narrowed to `username` when given; most recent first."""
        who = require(who)
        if who.is_shopper:
            if username not in (None, who.username):
                raise NotAllowed("Shoppers can list only their own conversations.")
            return conversations.list_conversations(self.context, who.username)
        tenant = None if who.tenant == "*" else who.tenant
        return conversations.list_conversations(self.context, username, tenant=tenant)

    def open(self, who: Principal, session_id: str) -> ConversationView:
        """The conversation if `who` may see it (status refreshed); TurnError otherwise."""
        context = self._readable(who, session_id)
        owner = shopdb.get_conversation(self.engine, session_id).user
        with readable_errors(self.settings):
            return conversations.open_conversation(context, session_id, user=owner)

    def end(self, who: Principal, session_id: str) -> None:
        """End a conversation: it stays readable but takes no more messages (owner or admin)."""
        context = self._ending(who, session_id, doing="end a conversation")
        self.open(who, session_id)
        with readable_errors(self.settings):
            conversations.end_conversation(context, session_id)

    def delete(self, who: Principal, session_id: str) -> None:
        """Delete a conversation and all its checkpoints (owner or admin)."""
        context = self._ending(who, session_id, doing="delete a conversation")
        self.open(who, session_id)
        with readable_errors(self.settings):
            conversations.delete_conversation(context, session_id)

    def _ending(self, who: Principal, session_id: str, *, doing: str) -> ShopContext:
        who = require(who)
        if who.is_admin:
            return self._readable(who, session_id)
        return self._own(who, session_id, doing=doing)

    def cleanup(
        self, who: Principal, older_than_days: int | None = None, progress=None
    ) -> list[str]:
        """End and delete conversations idle longer than the retention period: a shopper's
        own, or every one for an admin (store-wide maintenance)."""
        who = require_role(who, "shopper", "admin", doing="clean up conversations")
        days = self.settings.session_retention_days if older_than_days is None else older_than_days
        with readable_errors(self.settings):
            return erasure.cleanup(
                self.context,
                older_than=timedelta(days=days),
                user=None if who.is_admin else who.username,
                **({"progress": progress} if progress else {}),
            )

    def erase_my_data(self, who: Principal, progress=None) -> erasure.ErasureReceipt:
        """ "Delete my data": a shopper's sessions, conversations, approvals and data key go;
        the account stays (with an empty profile) and so do the orders. Returns the receipt."""
        who = require_role(who, "shopper", doing="erase their data")
        return self._erase(who, who.username, remove_account=False, progress=progress)

    def erase_shopper(self, who: Principal, username: str, progress=None) -> erasure.ErasureReceipt:
        """Delete a shopper (the admin): everything of theirs goes, the account included;
        their orders stay for the shop's accounts. Returns the receipt."""
        who = require_role(who, "admin", doing="delete a shopper")
        user = shopdb.get_user(self.engine, username)
        if user is None or user.role != "shopper":
            raise TurnError(f"No shopper {username!r}.")
        return self._erase(who, user.username, remove_account=True, progress=progress)

    def _erase(self, who: Principal, username: str, *, remove_account: bool, progress):
        with readable_errors(self.settings):
            return erasure.erase_shopper(
                self.context,
                username,
                requested_by=who.username,
                remove_account=remove_account,
                **({"progress": progress} if progress else {}),
            )

    # --- turns ---------------------------------------------------------------------------
    def send(
        self, who: Principal, session_id: str, message: Any, *, message_id: str | None = None
    ) -> TurnResult:
        """Run one turn and return the reply, cart and any pending approval."""
        return turns.final_result(self.stream(who, session_id, message, message_id))

    def stream(
        self, who: Principal, session_id: str, message: Any, message_id: str | None = None
    ) -> Iterator[TurnEvent]:
        """Run one turn, yielding reply tokens and tool activity as they happen, then the result.

        Sending again with the same `message_id` never runs a turn twice (turns.stream_turn).
        Raises TurnError (before anything is written) for bad input, an ended or foreign
        conversation, or a checkout still waiting for the store.
        """
        context = self._own(who, session_id, doing="write in a conversation")
        self.recover_decisions()  # a decision left half-done must not hold this turn back
        return turns.stream_turn(context, who.username, session_id, message, message_id)

    def current(self, who: Principal, session_id: str) -> TurnResult:
        """The conversation as it stands: last reply, cart, products, pending approval."""
        return turns.current(self._readable(who, session_id), session_id)

    def chat(self, who: Principal, session_id: str) -> list[ChatTurn]:
        """The conversation on its current branch, turn by turn, as the chat shows it."""
        return chat_turns(self.messages(who, session_id))

    def messages(self, who: Principal, session_id: str) -> list:
        """Every message of the current branch, as LangChain messages (for developers and tests)."""
        context = self._readable(who, session_id)
        return list((context.snapshot(session_id).values or {}).get("messages", []))

    def pending_approval(self, who: Principal, session_id: str) -> ApprovalView | None:
        """The checkout of this session waiting for the store, if any."""
        context = self._readable(who, session_id)
        self.recover_decisions()
        return turns.pending_approval(context, session_id)

    def add_to_cart(
        self, who: Principal, session_id: str, product_id: str, size: float, quantity: int = 1
    ) -> TurnResult:
        """Add pairs of a product in one size from its product card: a turn whose message is the
        click, which the graph runs as that exact cart tool call (cart_actions.py)."""
        context = self._own(who, session_id, doing="change the cart")
        text, action = cart_actions.add(context, product_id, size, quantity)
        return self._click(context, who, session_id, text, action)

    def change_quantity(
        self, who: Principal, session_id: str, product_id: str, size: float, quantity: int
    ) -> TurnResult:
        """Set a cart line to `quantity` pairs (the cart's + and −; 0 removes it), as a turn."""
        context = self._own(who, session_id, doing="change the cart")
        text, action = cart_actions.set_quantity(context, session_id, product_id, size, quantity)
        return self._click(context, who, session_id, text, action)

    def remove_from_cart(
        self, who: Principal, session_id: str, product_id: str, size: float
    ) -> TurnResult:
        """Remove a cart line (a product in one size) from the cart, as a turn."""
        context = self._own(who, session_id, doing="change the cart")
        text, action = cart_actions.remove(context, session_id, product_id, size)
        return self._click(context, who, session_id, text, action)

    def _click(
        self, context: ShopContext, who: Principal, session_id: str, text: str, action
    ) -> TurnResult:
        self.recover_decisions()  # as for a typed message: a decision left half-done first
        message_id = str(uuid.uuid4())
        return turns.final_result(
            turns.stream_turn(context, who.username, session_id, text, message_id, action=action)
        )

    def stock(self, who: Principal, product_id: str) -> dict[float, int]:
        """Pairs in stock now per size of a product, every size it is made in (0: sold out)."""
        require(who)
        return shopdb.stock_by_size(self.engine, product_id)

    def chat_versions(self, who: Principal, session_id: str) -> list[TurnVersions]:
        """Per turn of the chat: the checkpoint an edit or a regeneration of it starts from,
        and the versions of its message and reply to switch between (versions.py)."""
        return versions.turn_versions(self._readable(who, session_id), session_id)

    # --- history, replay, fork -----------------------------------------------------------
    def history(self, who: Principal, session_id: str) -> list[CheckpointView]:
        """Every checkpoint of the session, newest first."""
        return history.timeline(self._readable(who, session_id), session_id)

    def turns(self, who: Principal, session_id: str) -> TurnHistory:
        """The history by turn, every branch: what the History page shows (turn_history.py)."""
        return history.turns(self._readable(who, session_id), session_id)

    def replay_warning(
        self, who: Principal, session_id: str, checkpoint_id: str
    ) -> CheckoutWarning | None:
        """What replaying from a checkpoint, or forking it with an edited message, would send
        to the store again, to show before asking for confirmation; None if nothing."""
        context = self._readable(who, session_id)
        return history.replay_warning(context, session_id, checkpoint_id)

    def state_at(self, who: Principal, session_id: str, checkpoint_id: str) -> StateSnapshot:
        """The graph state snapshot at one checkpoint (for developers and tests)."""
        return history.state_at(self._readable(who, session_id), session_id, checkpoint_id)

    def checkpoint(self, who: Principal, session_id: str, checkpoint_id: str) -> CheckpointState:
        """The state at one checkpoint as the History page shows it."""
        context = self._readable(who, session_id)
        return history.checkpoint_state(context, session_id, checkpoint_id)

    def replay(
        self, who: Principal, session_id: str, checkpoint_id: str, *, confirmed: bool = False
    ) -> TurnResult:
        """Re-run the steps after a checkpoint; the result starts a new branch. Re-running a
        checkout needs `confirmed` (ConfirmationNeeded says why; see `replay_warning`)."""
        context = self._own(who, session_id, doing="replay a conversation")
        return history.replay(context, who.username, session_id, checkpoint_id, confirmed=confirmed)

    def fork(
        self,
        who: Principal,
        session_id: str,
        checkpoint_id: str,
        *,
        message: str | None = None,
        cart: list[dict] | None = None,
        confirmed: bool = False,
    ) -> TurnResult:
        """Branch off a checkpoint with an edited shopper message and/or cart (see history.fork);
        an edited message whose turn went to checkout needs `confirmed`, as a replay does."""
        context = self._own(who, session_id, doing="fork a conversation")
        return history.fork(
            context,
            who.username,
            session_id,
            checkpoint_id,
            message=message,
            cart=cart,
            confirmed=confirmed,
        )

    def fork_conversation(
        self, who: Principal, session_id: str, checkpoint_id: str | None = None
    ) -> str:
        """Copy a conversation into a new one (a new Bedrock session) and return its id."""
        context = self._own(who, session_id, doing="copy a conversation")
        return history.copy_conversation(context, who.username, session_id, checkpoint_id)

    def switch_branch(self, who: Principal, session_id: str, checkpoint_id: str) -> TurnResult:
        """Make the branch ending at `checkpoint_id` current again; the next turn extends it and
        no branch is added (history.switch_branch)."""
        context = self._own(who, session_id, doing="switch branches")
        return history.switch_branch(context, who.username, session_id, checkpoint_id)

    # --- approvals -----------------------------------------------------------------------
    def approvals(self, who: Principal, status: str | None = "pending") -> list[ApprovalView]:
        """Checkouts in the approvals queue of the operator's tenant."""
        who = require_role(who, "operator", doing="see the approvals queue")
        self.recover_decisions()
        return approvals.list_approvals(self.context, status, tenant=who.tenant)

    def decide(
        self,
        who: Principal,
        approval_id: str,
        decision: dict,
        *,
        expected_total: float | None = None,
    ) -> TurnResult:
        """Apply an operator's decision and resume the waiting conversation (approvals.decide).

        Only an operator of the checkout's tenant may decide, never on their own order, and
        the decision is recorded as theirs whatever `decision` says about its author. With
        `expected_total` (the total the operator was shown), an approval that would charge
        anything else is refused before anything happens.
        """
        context = self._deciding(who, approval_id)
        self.recover_decisions()
        return approvals.decide(
            context,
            approval_id,
            {**decision, "operator": who.username},
            expected_total=expected_total,
        )

    def preview_decision(self, who: Principal, approval_id: str, decision: dict) -> DecisionPreview:
        """What approving with `decision` would order and charge (the operator's live preview),
        priced as the order will be; the same rights as `decide`."""
        context = self._deciding(who, approval_id)
        return approvals.preview(context, approval_id, {**decision, "operator": who.username})

    def _deciding(self, who: Principal, approval_id: str) -> ShopContext:
        """The tenant context of a checkout `who` may decide: an operator of its tenant, and
        not the shopper who is buying."""
        who = require_role(who, "operator", doing="decide checkouts")
        approval = shopdb.get_approval(self.engine, approval_id)
        if approval is None or not who.covers_tenant(approval.tenant):
            raise ApprovalError(f"No approval {approval_id!r}.")
        if approval.user == who.username:
            raise NotAllowed("You cannot decide your own checkout; another operator must.")
        return self._context_of(approval.tenant)

    def cancel_checkout(self, who: Principal, session_id: str) -> TurnResult:
        """The shopper withdraws the checkout waiting in their conversation (approvals.cancel).

        Only the shopper whose conversation it is may; nothing is ordered, the cart stays and
        the conversation carries on. Cancelling again returns the conversation as it stands;
        when an operator decided first, AlreadyDecided says so.
        """
        context = self._own(who, session_id, doing="cancel a checkout")
        self.recover_decisions()  # a decision left half-done is finished first: it came first
        with readable_errors(self.settings):
            return approvals.cancel(context, session_id, who.username)

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
        """Finish decisions whose process stopped half-way (see approvals.recover); how many.

        The shop itself acts here, not a user: each decision was authorized when it was made.
        """
        try:
            return approvals.recover(self.context)
        except Exception:  # never let a sweep break the command that ran it; the next one retries
            logging.getLogger(__name__).exception("recovering approvals failed")
            return 0

    def orders(self, who: Principal, limit: int = 20) -> list[OrderView]:
        """The most recent orders `who` may see: a shopper's own, an operator's tenant's, all
        for an admin."""
        who = require(who)
        if who.is_shopper:
            return approvals.recent_orders(self.context, limit, user=who.username)
        tenant = None if who.is_admin else who.tenant
        return approvals.recent_orders(self.context, limit, tenant=tenant)

    # --- audit ---------------------------------------------------------------------------
    def audit(self, who: Principal, session_id: str) -> dict:
        """The raw Bedrock session: invocations, steps, payloads and decoded checkpoints."""
        context = self._readable(who, session_id)
        with readable_errors(self.settings):
            return session_audit(context.client, context.checkpointer.serde, session_id)

    # --- for tests and tools -------------------------------------------------------------
    def config_for(self, session_id: str, checkpoint_id: str | None = None) -> dict:
        """The LangGraph config of a session (at one checkpoint when given), with the shop DB."""
        return self.context.config_for(session_id, checkpoint_id)
