"""Facts gathering: one module per engine, the only code that touches a database."""
