"""Plans: typed operations a planner proposes and the engine renders."""
