"""Resolution: the finder over the indexes, the resolvelib provider, and the lock file writer."""
