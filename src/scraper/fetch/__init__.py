"""Fetching: the HTTP client and its address policy, robots.txt, per-host politeness, the fetcher.

Imports only `scraper.errors` and `scraper.settings`; every other stage builds on it.
"""
