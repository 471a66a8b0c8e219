"""Scrapy commands of pixivcrawl (COMMANDS_MODULE)."""
