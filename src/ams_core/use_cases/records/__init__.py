"""Records an institution keeps: a generic base, then people, teaching and the calendar."""
