"""Customer service: feedback surveys from receipts, complaint tickets with deadlines."""
