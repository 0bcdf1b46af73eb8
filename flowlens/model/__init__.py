"""Typed domain objects and the Arrow schemas shared by every stage."""
