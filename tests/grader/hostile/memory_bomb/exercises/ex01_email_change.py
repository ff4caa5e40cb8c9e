"""Allocates 500 MB blocks until the memory limit stops it."""

blocks = []
while True:
    blocks.append(bytearray(500 * 1024 * 1024))
