"""The jobs that tie the stages together: page-to-record, run, reclean, cluster execution.

Imports discovery, fetch, store and the cleaner; only `scraper.commands` imports a job.
"""
