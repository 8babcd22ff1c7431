"""What the scraper keeps: the raw WARC store and its writer process, records, state, the lock.

Imports `scraper.fetch` for the shape of a fetched page, never a job or a command.
"""
