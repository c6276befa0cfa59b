"""The orders example: a shop's orders, and a projection into a view that answers
what the aggregates cannot answer cheaply (a customer's open orders, the best
customers), on SQLite, PostgreSQL or in memory."""
