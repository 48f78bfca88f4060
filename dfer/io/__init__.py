"""Reading media: images and videos, decoded sequentially (never seek per frame)."""
