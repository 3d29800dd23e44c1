"""Storage: the only package that speaks SQL. Functions take a connection and never commit."""
