"""What the tests share: servers and clients to start, apps to serve, helpers; no tests here."""
