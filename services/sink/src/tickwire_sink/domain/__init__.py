"""Pure sink logic: which rows a batch of records becomes."""
