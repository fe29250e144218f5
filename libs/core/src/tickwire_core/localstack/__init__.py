"""The local stack: a real Kafka broker and a real PostgreSQL with TimescaleDB, installed and run
by the project itself, and the pipeline's services as local processes."""
