"""Channel intake: the platforms' webhooks (routes), the durable inbox they fill (worker) and
what a message becomes: a complaint routed by the account the citizen addressed (routing,
regions, take_in). The protocols themselves are channels/'s."""
