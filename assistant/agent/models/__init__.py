"""Chat models for the shop assistant.

- `OfflineShopModel` (`offline/`): the deterministic rule-based default, no network needed.
- `build_chat_model` (`factory.py`): picks offline, Claude on Bedrock, or any `init_chat_model`
  string from the settings.
"""

from assistant.agent.models.offline.model import MODEL_NAME, OfflineShopModel

__all__ = ["MODEL_NAME", "OfflineShopModel"]
