"""The complaint domain: the status machine (pure) and the workflow that applies it to the
database in the caller's transaction."""
