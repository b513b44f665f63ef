"""What Kilas gives partners beyond the GraphQL API: outgoing webhooks (signing, the URL rules,
the payload of an event, the sender)."""
