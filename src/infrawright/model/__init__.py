"""The in-memory model of a Flux repository, made by the loader: Kustomizations,
components, CRD index, graph, and the conventions the repository follows."""
