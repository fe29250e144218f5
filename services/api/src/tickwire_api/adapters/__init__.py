"""I/O of the API beyond its routes: the Kafka consumer of the live stream, and its metrics."""
