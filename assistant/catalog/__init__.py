"""The shop's catalog database: products and stock, demo users, orders and the approvals queue.

    from assistant.catalog import get_engine, init_db, search_products, place_order

    engine = get_engine(settings.database_url)   # SQLite file by default, or PostgreSQL
    init_db(engine)                              # tables + seed from data/*.json, once
    page = search_products(engine, query="trail", size=9)

Every data function takes a SQLModel `Session` or an `Engine` (a session is then opened for the
call). The cart is not here: it lives in the graph's state (DESIGN decision 5).
"""

from assistant.catalog.approvals import (
    AlreadyDecided,
    ApprovalError,
    ApprovalNotFound,
    attach_order,
    claim_decision,
    create_pending,
    get_approval,
    list_approvals,
    record_failure,
    release_claim,
)
from assistant.catalog.db import DATA_DIR, get_engine, init_db, session_scope
from assistant.catalog.images import product_image_path
from assistant.catalog.models import (
    CATEGORIES,
    GENDERS,
    Approval,
    ApprovalRead,
    Order,
    OrderLine,
    OrderRead,
    Product,
    ProductDetails,
    ProductSummary,
    StockLevel,
    User,
    size_label,
)
from assistant.catalog.orders import (
    MAX_QUANTITY_PER_LINE,
    InvalidOrder,
    OrderError,
    OutOfStock,
    get_order,
    place_order,
    recent_orders,
)
from assistant.catalog.search import (
    InvalidSearch,
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
from assistant.catalog.users import get_user, list_users

__all__ = [
    "CATEGORIES",
    "DATA_DIR",
    "GENDERS",
    "MAX_QUANTITY_PER_LINE",
    "AlreadyDecided",
    "Approval",
    "ApprovalError",
    "ApprovalNotFound",
    "ApprovalRead",
    "InvalidOrder",
    "InvalidSearch",
    "Order",
    "OrderError",
    "OrderLine",
    "OrderRead",
    "OutOfStock",
    "Product",
    "ProductDetails",
    "ProductSummary",
    "SearchPage",
    "StockLevel",
    "User",
    "attach_order",
    "claim_decision",
    "create_pending",
    "find_product",
    "get_approval",
    "get_engine",
    "get_order",
    "get_product_details",
    "get_user",
    "init_db",
    "known_brands",
    "known_colors",
    "list_approvals",
    "list_users",
    "normalize_category",
    "normalize_color",
    "normalize_gender",
    "place_order",
    "product_image_path",
    "recent_orders",
    "record_failure",
    "release_claim",
    "search_products",
    "session_scope",
    "size_label",
    "stock_by_size",
]
