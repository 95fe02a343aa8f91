"""What the user gives: requirements files, pipeline.yaml, pip's configuration, the sources named."""
