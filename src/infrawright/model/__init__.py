"""The in-memory model of a Flux repository: Kustomizations, components, CRD index, graph."""
