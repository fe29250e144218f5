"""I/O of the API: the database pool and its reads (one module per resource), and the live
stream's Kafka consumer, fan-out hub and metrics."""
