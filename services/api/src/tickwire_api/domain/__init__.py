"""Pure rules of the API's queries: cursors, bar intervals and request ranges.
No I/O here; the routes turn these results and errors into SQL parameters and 422s."""
