"""Operations: backups, restores and consistency checks."""
