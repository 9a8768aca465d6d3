"""Building: the real kustomize on each Flux Kustomization, as Flux would build it."""
