"""The application: what the web pages and the CLI call, and the views they get back.

    from assistant.application import Shop

    shop = Shop()                                   # settings from the environment / .env
    alice, token = shop.sign_in("alice", "demo-alice")  # a Principal, and a sign-in token
    session_id = shop.new_conversation(alice)
    result = shop.send(alice, session_id, "trail shoes in size 9")

Modules: `shop` (the `Shop` facade), `principals` (who may do what), `accounts` (passwords,
tokens, OpenID Connect identities), `conversations`, `turns`, `history` (replay, fork, copy,
branch switching), `approvals` (the whole decision flow), `audit`, `views` (what is returned),
`errors`, `context` (the parts the functions share), `clients` and `tenant_clients` (boto3
clients of the session store, one per tenant when it isolates tenants).
"""

from assistant.agent.checkout import line_key
from assistant.agent.state import cart_total
from assistant.application.accounts import AccountLocked, SignInRefused
from assistant.application.approvals import approval_decision
from assistant.application.errors import AlreadyDecided, ApprovalError, TurnError
from assistant.application.principals import NotAllowed, NotSignedIn, Principal
from assistant.application.replay_effects import ConfirmationNeeded
from assistant.application.shop import Shop
from assistant.application.turns import MAX_MESSAGE_CHARS
from assistant.application.versions import TurnVersions, Versions
from assistant.application.views import (
    ApprovalView,
    CartClick,
    ChatMessage,
    ChatTurn,
    CheckoutOutcome,
    CheckoutWarning,
    CheckpointState,
    CheckpointView,
    ConversationView,
    DecisionPreview,
    OrderLineView,
    OrderView,
    TurnEvent,
    TurnHistory,
    TurnResult,
    TurnStep,
    TurnView,
    UserView,
)
from assistant.shopdb import MAX_QUANTITY_PER_LINE
from assistant.shopdb import product_image_path as product_image

__all__ = [
    "MAX_MESSAGE_CHARS",
    "MAX_QUANTITY_PER_LINE",
    "AccountLocked",
    "AlreadyDecided",
    "ApprovalError",
    "ApprovalView",
    "CartClick",
    "ChatMessage",
    "ChatTurn",
    "CheckoutOutcome",
    "CheckoutWarning",
    "CheckpointState",
    "CheckpointView",
    "ConfirmationNeeded",
    "ConversationView",
    "DecisionPreview",
    "NotAllowed",
    "NotSignedIn",
    "OrderLineView",
    "OrderView",
    "Principal",
    "Shop",
    "SignInRefused",
    "TurnError",
    "TurnEvent",
    "TurnHistory",
    "TurnResult",
    "TurnStep",
    "TurnVersions",
    "TurnView",
    "UserView",
    "Versions",
    "approval_decision",
    "cart_total",
    "line_key",
    "product_image",
]
