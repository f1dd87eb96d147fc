"""The desk's link to the server: the API client and the sync engine."""
