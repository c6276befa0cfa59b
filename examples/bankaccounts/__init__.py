"""The bank accounts example (section 1.9.1): accounts with balances, overdraft
limits and transfers that debit and credit two accounts atomically."""
