"""Pure security code: no FastAPI, no database. Easy to read, easy to test."""
