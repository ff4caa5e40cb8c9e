"""Allocates 100 MB blocks until the memory limit stops it."""

blocks = []
while True:
    blocks.append(bytearray(100 * 1024 * 1024))
