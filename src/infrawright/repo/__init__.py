"""Reading a repository: discovery, YAML documents with positions, configuration."""
