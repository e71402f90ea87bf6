"""The shop's tables and the shapes read from them, side by side.

Tables (``table=True``) are what the database stores; the plain SQLModel classes next to them are
what the rest of the app reads (a search result, a product with its stock, an order with its
lines). Money is kept as float rounded to cents: prices in this demo have two decimals and totals
are always rounded with `round(..., 2)` where they are computed.

No ``from __future__ import annotations`` here: SQLModel reads the relationship annotations
at class creation. Table names are plural on purpose: ``order`` and ``user`` are reserved words
in PostgreSQL. Timestamps are UTC.
"""

from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import JSON, CheckConstraint, Column, Text, UniqueConstraint
from sqlmodel import Field, Relationship, SQLModel

CATEGORIES = ("running", "trail", "hiking", "casual", "basketball", "formal", "sandals")
GENDERS = ("women", "men", "kids", "unisex")
Role = Literal["shopper", "operator", "admin"]
ApprovalStatus = Literal["pending", "deciding", "approved", "rejected", "failed", "cancelled"]


def utc_now() -> datetime:
    """The current time in UTC (the database stores every timestamp in UTC)."""
    return datetime.now(UTC)


def size_label(size: float) -> str:
    """The text form of a US size, as shoppers write it: 8.0 -> "8", 8.5 -> "8.5"."""
    return f"{size:g}"


# --- products and stock ------------------------------------------------------------------


class Product(SQLModel, table=True):
    """A shoe model in the catalog (stock per size lives in `StockLevel`)."""

    __tablename__ = "products"

    product_id: str = Field(primary_key=True, max_length=16)
    brand: str = Field(index=True, max_length=64)
    name: str = Field(max_length=128)
    category: str = Field(index=True, max_length=16)
    gender: str = Field(index=True, max_length=8)
    colors: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    price: float
    rating: float
    description: str

    stock_levels: list["StockLevel"] = Relationship(back_populates="product")

    @property
    def display_name(self) -> str:
        """Brand and model, as a shopper reads it on a receipt: "Stridewell Aurora Glide"."""
        return f"{self.brand} {self.name}"


class StockLevel(SQLModel, table=True):
    """How many pairs of one product are in stock in one size."""

    __tablename__ = "stock_levels"
    __table_args__ = (
        UniqueConstraint("product_id", "size", name="uq_stock_product_size"),
        # The conditional decrement in orders.py relies on this never going negative.
        CheckConstraint("quantity >= 0", name="ck_stock_non_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    product_id: str = Field(foreign_key="products.product_id", index=True, max_length=16)
    size: float
    quantity: int = Field(ge=0)

    product: Product | None = Relationship(back_populates="stock_levels")


class ProductSummary(SQLModel):
    """One search result, as the search tool returns it."""

    product_id: str
    name: str
    brand: str
    category: str
    gender: str
    colors: list[str]
    price: float
    rating: float
    sizes_in_stock: list[float]


class ProductDetails(ProductSummary):
    """A product with its description and the stock of every size it is made in."""

    description: str
    stock: dict[str, int]  # size label ("8.5") -> pairs in stock, 0 when sold out
    image: str  # file name under data/images/


# --- people ------------------------------------------------------------------------------


class User(SQLModel, table=True):
    """A shop account: a shopper with a profile, a store operator, or a store administrator.

    Passwords are stored only as Argon2 hashes (`password_hash`, see `assistant.shopdb.accounts`);
    accounts that sign in through OpenID Connect only have none. `failed_sign_ins` and
    `locked_until` implement the lock-out after repeated wrong passwords.
    """

    __tablename__ = "users"

    username: str = Field(primary_key=True, max_length=64)
    display_name: str = Field(max_length=128)
    role: str = Field(default="shopper", max_length=16)  # shopper | operator | admin
    # The tenant the account belongs to; an admin's is the store's own ("*": every tenant).
    tenant: str = Field(index=True, max_length=64)
    shoe_size: float | None = None
    gender: str | None = Field(default=None, max_length=8)
    preferred_category: str | None = Field(default=None, max_length=16)
    # The address an OpenID Connect provider vouches for (st.login), matched case-insensitively.
    email: str | None = Field(default=None, max_length=254, index=True)
    password_hash: str | None = Field(default=None, max_length=256)
    failed_sign_ins: int = Field(default=0)
    locked_until: datetime | None = None

    @property
    def is_operator(self) -> bool:
        """True for store operators, who decide pending checkouts."""
        return self.role == "operator"


class SignIn(SQLModel, table=True):
    """One signed-in browser or CLI: what a sign-in token points to, so sign-out revokes it.

    The token itself (signed, see `assistant.application.accounts`) carries a random id; the
    database keeps only its SHA-256 (`id_hash`), so a copy of the database signs nobody in.
    """

    __tablename__ = "sign_ins"

    id_hash: str = Field(primary_key=True, max_length=64)
    username: str = Field(index=True, max_length=64)
    channel: str = Field(max_length=16)  # web | cli | oidc
    created_at: datetime = Field(default_factory=utc_now)
    expires_at: datetime
    revoked_at: datetime | None = None


# --- orders ------------------------------------------------------------------------------


class Order(SQLModel, table=True):
    """A placed order. `idempotency_key` is UNIQUE: one key can never become two orders."""

    __tablename__ = "orders"

    id: str = Field(primary_key=True, max_length=32)
    idempotency_key: str = Field(unique=True, max_length=128)
    user: str = Field(index=True, max_length=64)
    tenant: str = Field(index=True, max_length=64)
    session_id: str = Field(index=True, max_length=128)
    status: str = Field(default="placed", max_length=16)
    subtotal: float
    discount_pct: float = 0
    total: float
    created_at: datetime = Field(default_factory=utc_now, index=True)

    lines: list["OrderLine"] = Relationship(
        back_populates="order",
        sa_relationship_kwargs={"order_by": "OrderLine.id", "lazy": "selectin"},
    )


class OrderLine(SQLModel, table=True):
    """One product in one size on an order, priced when the order was placed."""

    __tablename__ = "order_lines"

    id: int | None = Field(default=None, primary_key=True)
    order_id: str = Field(foreign_key="orders.id", index=True, max_length=32)
    product_id: str = Field(max_length=16)
    name: str = Field(max_length=200)
    size: float
    quantity: int = Field(ge=1)
    unit_price: float
    line_total: float

    order: Order | None = Relationship(back_populates="lines")


# --- approvals ---------------------------------------------------------------------------


class Approval(SQLModel, table=True):
    """A checkout waiting for (or decided by) a store operator.

    One row per checkout interrupt: (session_id, interrupt_id) is UNIQUE, so recording the same
    pause twice (the checkout node re-runs on resume; two app processes poll) keeps one row.
    """

    __tablename__ = "approvals"
    __table_args__ = (UniqueConstraint("session_id", "interrupt_id", name="uq_approval_interrupt"),)

    id: str = Field(primary_key=True, max_length=16)  # "apr-1a2b3c4d"
    session_id: str = Field(index=True, max_length=128)
    user: str = Field(index=True, max_length=64)
    tenant: str = Field(index=True, max_length=64)
    interrupt_id: str = Field(max_length=128)
    items: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    subtotal: float
    total: float
    status: str = Field(default="pending", index=True, max_length=16)
    decision: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    decided_by: str | None = Field(default=None, max_length=64)
    reason: str | None = None
    order_id: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utc_now, index=True)
    decided_at: datetime | None = None
    # The decision flow (assistant/application/approvals.py, docs/approvals.md): who holds the
    # "deciding" claim until when, how often it was tried, and what last went wrong.
    lease_expires_at: datetime | None = Field(default=None, index=True)
    attempts: int = 0
    last_error: str | None = None
    # The order of the conversation this one was copied from that bought the very same cart.
    repeat_of_order: str | None = Field(default=None, max_length=32)
    # The order this checkout would find again if approved: the same cart was already bought at
    # this point of this conversation (a replay, or a fork that bought the same cart).
    replay_of_order: str | None = Field(default=None, max_length=32)


# --- conversations -----------------------------------------------------------------------


class Conversation(SQLModel, table=True):
    """The shop's record of one conversation, which is one Bedrock session.

    ListSessions cannot filter, so this registry lists a user's conversations in one query;
    Bedrock stays the source of truth for the session's status and content.
    """

    # Singular, unlike the others: the name it had when it lived with the application, kept so
    # databases created before keep their conversations.
    __tablename__ = "conversation"

    session_id: str = Field(primary_key=True, max_length=64)
    user: str = Field(index=True, max_length=64)
    tenant: str = Field(index=True, max_length=64)
    title: str = Field(default="New conversation", max_length=120)
    status: str = Field(default="ACTIVE", max_length=16)
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now, index=True)
    # The title (the shopper's first message) sealed with the shopper's data key
    # (assistant.application.sealing); `title` itself only ever holds "New conversation".
    title_sealed: str | None = Field(default=None, sa_type=Text)
    # The conversation this one was copied from (History → "Copy into a new conversation").
    copied_from: str | None = Field(default=None, max_length=64)


class DataKey(SQLModel, table=True):
    """A shopper's data key, wrapped by the shop's key-encryption key (never stored in clear).

    It seals what the shop database keeps of a shopper's words (conversation titles). Erasing
    the shopper deletes this row, which makes every copy of those words unreadable, backups
    included (crypto-shredding).
    """

    __tablename__ = "data_keys"

    username: str = Field(primary_key=True, max_length=64)
    wrapped: str = Field(sa_type=Text)  # base64 of the wrapped key
    key_id: str = Field(max_length=2048)  # which key-encryption key wrapped it
    created_at: datetime = Field(default_factory=utc_now)
