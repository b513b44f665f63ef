"""Live delivery of committed complaint events: the cross-process bus and the in-process hub."""
