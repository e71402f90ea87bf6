"""The shop's catalog database: products and stock, demo users, orders and the approvals queue.

    from assistant.shopdb import SearchFilters, get_engine, init_db, search_products

    engine = get_engine(settings.database_url)   # SQLite file by default, or PostgreSQL
    init_db(engine)                              # tables + seed from data/*.json, once
    page = search_products(engine, SearchFilters(query="trail", size=9))

Every data function takes a SQLModel `Session` or an `Engine` (a session is then opened for the
call). The cart is not here: it lives in the graph's state (DESIGN decision 5).
"""

from assistant.shopdb.approvals import (
    AlreadyDecided,
    ApprovalError,
    ApprovalNotFound,
    claim_decision,
    close_stale,
    create_pending,
    expired_claims,
    finish_decision,
    get_approval,
    list_approvals,
    note_error,
    reclaim_expired,
    release_claim,
)
from assistant.shopdb.conversations import (
    add_conversation,
    copy_ancestors,
    get_conversation,
    idle_conversations,
    list_conversations,
    mark_copy,
    set_conversation_status,
    touch_conversation,
)
from assistant.shopdb.engine import DATA_DIR, get_engine, init_db, session_scope
from assistant.shopdb.images import product_image_path
from assistant.shopdb.orders import (
    MAX_QUANTITY_PER_LINE,
    InvalidOrder,
    OrderError,
    OutOfStock,
    cancel_order,
    get_order,
    orders_of_session,
    place_order,
    recent_orders,
    same_cart,
)
from assistant.shopdb.search import (
    InvalidSearch,
    SearchFilters,
    SearchPage,
    find_product,
    get_product_details,
    known_brands,
    known_colors,
    normalize_category,
    normalize_color,
    normalize_gender,
    search_products,
    stock_by_size,
)
from assistant.shopdb.tables import (
    CATEGORIES,
    GENDERS,
    Approval,
    Conversation,
    Order,
    OrderLine,
    Product,
    ProductDetails,
    ProductSummary,
    StockLevel,
    User,
    size_label,
)
from assistant.shopdb.users import get_user, list_users
from assistant.shopdb.vocabulary import ShopVocabulary, load_vocabulary

__all__ = [
    "CATEGORIES",
    "DATA_DIR",
    "GENDERS",
    "MAX_QUANTITY_PER_LINE",
    "AlreadyDecided",
    "Approval",
    "ApprovalError",
    "ApprovalNotFound",
    "Conversation",
    "InvalidOrder",
    "InvalidSearch",
    "Order",
    "OrderError",
    "OrderLine",
    "OutOfStock",
    "Product",
    "ProductDetails",
    "ProductSummary",
    "SearchFilters",
    "SearchPage",
    "ShopVocabulary",
    "StockLevel",
    "User",
    "add_conversation",
    "cancel_order",
    "claim_decision",
    "close_stale",
    "copy_ancestors",
    "create_pending",
    "expired_claims",
    "find_product",
    "finish_decision",
    "get_approval",
    "get_conversation",
    "get_engine",
    "get_order",
    "get_product_details",
    "get_user",
    "idle_conversations",
    "init_db",
    "known_brands",
    "known_colors",
    "list_approvals",
    "list_conversations",
    "list_users",
    "load_vocabulary",
    "mark_copy",
    "normalize_category",
    "normalize_color",
    "normalize_gender",
    "note_error",
    "orders_of_session",
    "place_order",
    "product_image_path",
    "recent_orders",
    "reclaim_expired",
    "release_claim",
    "same_cart",
    "search_products",
    "session_scope",
    "set_conversation_status",
    "size_label",
    "stock_by_size",
    "touch_conversation",
]
