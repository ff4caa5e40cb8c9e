"""Floods stdout until the file-size limit stops it."""

while True:
    print("spam " * 2000)
