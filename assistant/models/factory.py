"""Choose the chat model from the settings: offline, Claude on Bedrock, or any init_chat_model."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel

from assistant.config import Settings


def build_chat_model(settings: Settings) -> BaseChatModel:
    """The chat model named by `settings.model`.

    - `offline` (default): the deterministic rule-based model; no network, no weights.
    - `bedrock`: `ChatBedrockConverse` with `settings.bedrock_model_id`, which may be a model id,
      a cross-region inference profile id (`us.anthropic...`) or an inference profile ARN.
    - anything else: passed to LangChain's `init_chat_model`, e.g. `ollama:llama3.1`.
    """
    choice = settings.model.strip()
    if choice == "offline":
        from assistant.models.offline import OfflineShopModel

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


def describe_model(settings: Settings) -> str:
    """A short label of the model in use, for the UI badge and the CLI."""
    if settings.model == "offline":
        return "offline rule-based model"
    if settings.model == "bedrock":
        return f"Claude on Bedrock ({settings.bedrock_model_id})"
    return settings.model
