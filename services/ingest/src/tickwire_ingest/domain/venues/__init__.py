"""The WebSocket venues the ingest service can connect to, one module each: the venue's protocol
Session and its Venue (connection plans), pure; tickwire_ingest.connectors builds them."""
