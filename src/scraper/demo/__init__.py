"""The bundled example web behind `scraper demo`."""
