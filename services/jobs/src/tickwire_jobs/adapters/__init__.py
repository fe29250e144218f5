"""The batch jobs' I/O: database reads and writes, local and S3 object stores."""
