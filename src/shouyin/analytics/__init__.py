"""Reports over sales and members: read-only aggregates that no other domain writes to."""
