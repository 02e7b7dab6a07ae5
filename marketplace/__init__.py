"""The application: accounts, companies and sites, flows, imports, catalogue, matching."""
