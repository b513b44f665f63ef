"""Limits against abuse: query size and shape, request bodies, request rates, WebSockets."""
