"""tickwire's batch jobs over the stored history (the lake export, the daily quality report): pure
rules in `domain`, database and object-store I/O in `adapters`; `tickwire` commands run them."""
