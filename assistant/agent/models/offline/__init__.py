"""The offline model: a deterministic, rule-based chat model that calls the shop's tools.

- `model.py`: `OfflineShopModel`, the LangChain chat-model interface (invoke, stream, tools).
- `decide.py`: what to do next given the whole conversation: call tools or reply.
- `searches.py`: how a search call is built, which filters carry over from the last search
  (the rule is in its docstring), and what the reply says about them.
- `references.py`: which shoe or cart line a message means ("the second one", "the canvas
  sneaker", "it").
- `parse.py`: what one shopper message says (intent, filters, "the second one"); its numbers
  (prices, quantities, sizes) are read by `amounts.py`, phrase by phrase with `scanner.py`.
- `conversation.py`: reading earlier tool calls, results and checkout outcomes out of the messages.
- `replies.py`: the short texts that summarise tool results for the shopper.

The shop's words (categories, genders, colours, brands, and the brands and kinds of shoe it does
not sell) are `assistant.shopdb.vocabulary`, the same tables catalog search reads.
"""

from assistant.agent.models.offline.model import MODEL_NAME, OfflineShopModel

__all__ = ["MODEL_NAME", "OfflineShopModel"]
