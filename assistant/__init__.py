"""The shoe shopping assistant: a LangGraph agent persisted in Bedrock sessions."""
