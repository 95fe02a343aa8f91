"""Resolution: a candidate's requirements, a project's releases, the finder over the indexes, the
provider, the lock file."""
