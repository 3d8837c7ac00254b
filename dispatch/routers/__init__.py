"""The API's routers, one per audience; :data:`ALL` is the order they are mounted in."""
