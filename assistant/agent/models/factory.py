"""Choose the chat model from the settings: offline, Claude on Bedrock, or any init_chat_model."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel

from assistant.settings import Settings


def build_chat_model(settings: Settings) -> BaseChatModel:
    """The chat model named by `settings.model`.

    - `offline` (default): the deterministic rule-based model; no network, no weights.
    - `bedrock`: `ChatBedrockConverse` with `settings.bedrock_model_id`, which may be a model id,
      a cross-region inference profile id (`us.anthropic...`) or an inference profile ARN.
    - anything else: passed to LangChain's `init_chat_model`, e.g. `ollama:llama3.1`.
    """
    choice = settings.model.strip()
    if choice == "offline":
        from assistant.agent.models.offline.model import OfflineShopModel

        return OfflineShopModel()
    if choice == "bedrock":
        from langchain_aws import ChatBedrockConverse

        kwargs = {}
        if settings.bedrock_model_id.startswith("arn:"):
            # An inference profile ARN names no provider, which Converse needs to format tools.
            kwargs["provider"] = "anthropic"
        return ChatBedrockConverse(
            model=settings.bedrock_model_id,
            region_name=settings.aws_region,
            temperature=settings.model_temperature,
            **kwargs,
        )
    from langchain.chat_models import init_chat_model

    return init_chat_model(choice, temperature=settings.model_temperature)


def describe_model(model: BaseChatModel) -> str:
    """A short label of the model actually answering, for the UI badge and the CLI."""
    from assistant.agent.models.offline.model import OfflineShopModel

    if isinstance(model, OfflineShopModel):
        return "offline rule-based model"
    name = getattr(model, "model_id", None) or getattr(model, "model_name", None)
    name = name or getattr(model, "model", None) or type(model).__name__
    if type(model).__name__ == "ChatBedrockConverse":
        return f"Claude on Bedrock ({name})" if "anthropic" in str(name) else f"Bedrock ({name})"
    return str(name)
