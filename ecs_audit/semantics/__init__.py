"""How AWS interprets a field: small, pure helpers shared by collectors and checks so both read a
value the same way (image references, secret references, network placement, IAM and repository
policies, Fargate task sizes). No AWS calls, no evaluation view."""
