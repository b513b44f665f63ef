"""Kilas: the live GraphQL hub for public-service complaints of a smart province."""
