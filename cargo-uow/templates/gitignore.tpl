/target
*.db
*.db-shm
*.db-wal
