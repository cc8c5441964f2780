"""GraphQL object types, named as in the SDL."""
