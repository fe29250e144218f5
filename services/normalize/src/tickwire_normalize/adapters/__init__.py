"""The normalize service's I/O: its Kafka producer and how a batch's output commits."""
