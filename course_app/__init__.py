"""Step-Up Auth Lab: the reference FastAPI app and the tools around it."""
