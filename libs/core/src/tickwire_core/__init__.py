"""tickwire core: the one library every service shares."""
