"""Pieces of layout the pages share: badges, conversations, chat, products, cart, approvals."""
