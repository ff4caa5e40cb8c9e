"""A stray colon and an unclosed bracket."""

def change_email(:
    return {"message": "done"
