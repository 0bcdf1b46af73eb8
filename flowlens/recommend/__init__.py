"""The recommender: least-privilege proposals proven by replay, rendered
as plans, applied safely."""
