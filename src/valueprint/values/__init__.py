"""The value space, the question bank, scoring, adaptive questioning, personas, précis."""
