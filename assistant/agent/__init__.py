"""The shopping agent: a LangGraph tool loop with an approval-gated checkout.

- `graph.py`: the graph (`build_graph`), `state.py`: its state (conversation, cart).
- `tools.py`: search, product details and cart tools; `checkout.py`: the checkout gate
  (`interrupt()` until a store operator decides) and the one parser of its outcome.
- `models/`: the chat model choice (`factory.py`) and the offline rule-based model (`offline/`).

The agent reads the shop database (`assistant.shopdb`) and never the application above it.
"""
