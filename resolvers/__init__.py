"""Query, mutation and subscription functions, with the request context and its loaders."""
