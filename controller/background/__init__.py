"""What runs beside the requests: the manifest publisher, the ingest of agent messages and the scheduled jobs.

It sits above `controller.services` (it calls them) and below `controller.runtime` (which starts it).
"""
