"""Pure rules of the batch jobs: no database, no files."""
