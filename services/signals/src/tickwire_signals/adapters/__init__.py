"""The signals service's I/O: faust (input, state table, worker) and librdkafka (output)."""
