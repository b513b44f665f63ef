"""The wall screen: static files served by Kilas (web/wall)."""
