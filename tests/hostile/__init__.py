"""Hostile-server suite: what pixivcrawl does when the server or the machine misbehaves."""
