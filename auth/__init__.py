"""Who is calling: bearer JWTs for staff applications, API keys for partners, else the public."""
