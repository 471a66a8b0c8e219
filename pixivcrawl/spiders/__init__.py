"""One spider per Pixiv source; all share the base spider in base.py."""
