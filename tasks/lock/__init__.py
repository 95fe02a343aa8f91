"""Resolution: a candidate's requirements, the finder over the indexes, the provider, the lock file."""
