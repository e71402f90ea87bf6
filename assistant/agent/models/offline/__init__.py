"""The offline model: a deterministic, rule-based chat model that calls the shop's tools.

- `model.py`: `OfflineShopModel`, the LangChain chat-model interface (invoke, stream, tools).
- `decide.py`: what to do next given the whole conversation: call tools or reply.
- `parse.py`: what one shopper message says (intent, filters, "the second one").
- `conversation.py`: reading earlier tool calls and results out of the messages.
- `replies.py`: the short texts that summarise tool results.

The shop's words (categories, genders, colours, brands) are `assistant.shopdb.vocabulary`, the
same tables catalog search reads.
"""

from assistant.agent.models.offline.model import MODEL_NAME, OfflineShopModel

__all__ = ["MODEL_NAME", "OfflineShopModel"]
