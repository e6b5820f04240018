"""What the JSON routes and the dashboard pages both do: plain functions over an owner and settings.

Services raise `DocagentError`s (never HTTP exceptions) and return the public schemas; routes and
pages only read requests and write responses around them.
"""
