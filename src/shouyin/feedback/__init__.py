"""Customer feedback: the signed survey links printed on receipts (the survey itself is issue 10)."""
