"""The portal (issue #13): web pages for employers and citizens, behind the edge's browser
listener, and the development identity provider (portal.idp)."""
