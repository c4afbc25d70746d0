"""The router: authenticates, authorises, forwards and logs every call between institutions."""
