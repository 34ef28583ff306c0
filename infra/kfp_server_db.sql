-- Run by mariadbd at every start (--init-file): the KFP API server's own database user,
-- on loopback only. infra/kfp_server.py fills in the user and a random password.
CREATE USER IF NOT EXISTS '{user}'@'127.0.0.1' IDENTIFIED BY '{password}';
ALTER USER '{user}'@'127.0.0.1' IDENTIFIED BY '{password}';
GRANT ALL PRIVILEGES ON *.* TO '{user}'@'127.0.0.1';
