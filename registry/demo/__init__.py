"""Demo data for a populated demo site."""
