"""The Headlamp request layer: the frontend's fetch functions, re-made on aiohttp. Imports no kopf."""
