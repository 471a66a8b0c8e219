"""pixivcrawl: archive Pixiv into a SQL database, with the original files beside it."""
