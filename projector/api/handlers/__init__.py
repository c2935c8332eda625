"""HTTP handlers: parse the request, call the store or a job, respond. No logic of their own."""
